from methods.model_card import wall_hours


def test_wall_time_adds_the_pieces_of_a_resumed_run():
    # two resumes: wall_s restarts at 0 each time; pieces end at 30 s, 15 s and 7 s
    rows = [{"wall_s": w} for w in (10, 20, 30, 5, 15, 7)]
    hours, pieces = wall_hours(rows)
    assert pieces == 3
    assert abs(hours * 3600 - 52) < 1e-9
    assert wall_hours([]) == (0.0, 0)
