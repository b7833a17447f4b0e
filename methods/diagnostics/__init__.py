"""Where a trained model's error lies, on the trainers' held-out crops; diagnoses, not benchmark numbers."""
