"""Sequence numbers of the actors' transition messages: gaps, restarts, late joins."""
from t3d_ros.training.streams import ActorStreams


def test_a_stream_first_heard_after_its_first_message_is_joined_late():
    streams = ActorStreams(max_actors=4)
    assert streams.admit('from_start', 0).joined_late is False
    assert streams.admit('from_start', 1).joined_late is False
    assert streams.admit('mid_way', 7).joined_late is True  # the learner started after it
    assert streams.admit('mid_way', 8).joined_late is False
    restarted = streams.admit('mid_way', 3)  # a new process whose 0-2 were not heard
    assert restarted.restarted and restarted.joined_late
    restarted = streams.admit('from_start', 0)
    assert restarted.restarted and not restarted.joined_late
    assert streams.admit('unnumbered', None).joined_late is False  # nothing known: as before
