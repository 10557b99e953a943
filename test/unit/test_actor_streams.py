"""Sequence numbers of the actors' transition messages: gaps, restarts, late joins, forgeries."""
from t3d_ros.training.streams import MAX_MESSAGE_RATE_HZ, QUEUED_MESSAGES, ActorStreams


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


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


def test_a_jump_beyond_what_the_actor_could_send_is_suspicious_and_moves_nothing():
    clock = FakeClock()
    streams = ActorStreams(max_actors=4, clock=clock)
    streams.admit('a', 0)
    clock.now = 1.0
    assert streams.admit('a', 1_000_000_000).suspicious
    assert streams.suspicious == 1 and streams.total_lost() == 0
    honest = streams.admit('a', 1)  # the actor's next message is taken as before
    assert honest == (0, False, False, False)
    assert streams.total_restarts() == 0


def test_the_largest_honest_gap_grows_with_the_time_since_the_last_message():
    clock = FakeClock()
    streams = ActorStreams(max_actors=1, clock=clock)
    streams.admit('a', 0)
    clock.now = 2.0
    largest = QUEUED_MESSAGES + 2 * MAX_MESSAGE_RATE_HZ
    assert streams.admit('a', 1 + largest).lost == largest  # a learner stalled 2 s
    clock.now = 2.5
    assert streams.admit('a', 2 + largest + QUEUED_MESSAGES + MAX_MESSAGE_RATE_HZ).suspicious
    assert streams.total_lost() == largest and streams.suspicious == 1
