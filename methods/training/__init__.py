"""What every learned method trains with: the loop (trainer), the photos, the loss network and the model card."""
