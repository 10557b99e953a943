"""The transition sender: messages, the held start steps, flow control (no ROS)."""
import numpy as np

from t3d_ros.acting.core import Transition
from t3d_ros.acting.transition_sender import TransitionSender

WINDOW = 3


class Logger:
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(text)

    def warning(self, text, throttle_duration_sec=None):
        self.lines.append(text)


class FakeLink:
    """A learner link whose listening, acknowledgements and throttle a test sets."""

    def __init__(self):
        self.sent = []
        self.truncated = []  # per message made: its transitions' truncated flags
        self.listening_now = False
        self.acknowledged_now = False
        self.throttlers = 1

    def message(self, transitions, seq):
        self.truncated.append([t.truncated for t in transitions])
        return seq, [t.reward for t in transitions]

    def publish(self, message):
        self.sent.append(message)

    def listening(self):
        return self.listening_now

    def acknowledged(self):
        return self.acknowledged_now

    def throttle_publishers(self):
        return self.throttlers


def transition(reward):
    obs = np.zeros(2)
    return Transition(obs, np.zeros(1), float(reward), obs, False, False)


def sender(start_steps=0, per_message=2, training=True, follow_throttle=True):
    link = FakeLink()
    made = TransitionSender(per_message, WINDOW, start_steps, training, follow_throttle, Logger())
    made.connect(link)
    return made, link


def test_full_messages_go_out_numbered_and_a_flush_sends_the_rest():
    made, link = sender()
    link.listening_now = True
    for reward in range(5):
        made.record(transition(reward))
    made.record(None)  # nothing closed
    made.flush()
    made.flush()  # nothing left: no empty message
    assert link.sent == [(0, [0.0, 1.0]), (1, [2.0, 3.0]), (2, [4.0])]


def test_start_steps_are_held_until_a_learner_listens_then_sent_in_order():
    made, link = sender(start_steps=10)
    for reward in range(4):
        made.record(transition(reward))
    assert link.sent == [] and len(made.held) == 1  # the latest transition stays back
    assert not made.behind(env_steps=4)  # within start_steps: go on
    link.listening_now = True
    made.record(transition(4))
    made.flush()
    assert link.sent == [(0, [0.0, 1.0]), (1, [2.0, 3.0]), (2, [4.0])]
    assert made.held is None


def test_without_a_learner_it_waits_after_start_steps_or_a_full_window():
    made, link = sender(start_steps=10, per_message=1)
    assert made.behind(env_steps=10) and made.waiting
    made, link = sender(start_steps=10, per_message=1)
    for reward in range(WINDOW + 1):  # (the latest stays back)
        made.record(transition(reward))
    assert made.behind(env_steps=WINDOW)  # as many held as it may hold
    link.listening_now = link.acknowledged_now = True
    assert not made.behind(env_steps=WINDOW)  # handed over (and taken): acting again
    assert [seq for seq, _ in link.sent] == list(range(WINDOW)) and not made.waiting


def test_it_waits_while_a_window_of_messages_is_not_acknowledged():
    made, link = sender(per_message=1)
    link.listening_now = True
    for reward in range(WINDOW + 1):  # (the latest stays back)
        made.record(transition(reward))
    assert made.behind(env_steps=100) and made.waits == 1
    assert made.behind(env_steps=100) and made.waits == 1  # one wait, however long
    link.acknowledged_now = True
    assert not made.behind(env_steps=100) and made.unacked == 0


def test_an_acknowledgement_seen_before_a_send_counts_afresh():
    made, link = sender(per_message=1)
    link.listening_now = True
    made.record(transition(0))
    link.acknowledged_now = True
    made.record(transition(1))  # the first was acknowledged: this one alone awaits
    link.acknowledged_now = False
    made.record(transition(2))
    assert made.unacked == WINDOW - 1 and not made.behind(env_steps=100)


def test_without_follow_throttle_it_never_waits_for_acknowledgements_nor_the_throttle():
    made, link = sender(per_message=1, follow_throttle=False)
    link.listening_now = True
    for reward in range(2 * WINDOW):
        made.record(transition(reward))
    assert not made.behind(env_steps=100)
    assert not made.throttle(True) and not made.asked_to_wait()


def test_the_throttle_holds_until_released_or_its_learner_is_gone():
    made, link = sender()
    assert made.throttle(True) and made.asked_to_wait()
    assert not made.throttle(False) and not made.asked_to_wait()
    made.throttle(True)
    link.throttlers = 0  # the learner that asked died
    assert not made.asked_to_wait() and not made.throttled


def test_clear_forgets_unsent_transitions_and_waits_but_keeps_numbering_and_held_messages():
    made, link = sender(start_steps=10)
    for reward in range(3):
        made.record(transition(reward))
    made.throttle(True)
    made.clear()
    assert made.outbox == [] and not made.throttled and made.waits == 0
    link.listening_now = True
    made.record(transition(9))
    made.flush()
    assert link.sent == [(0, [0.0, 1.0]), (1, [9.0])]


def test_deploy_never_waits_and_never_asks_the_link():
    made = TransitionSender(2, WINDOW, 0, training=False, follow_throttle=True, logger=Logger())
    assert not made.behind(env_steps=10**6) and not made.asked_to_wait()
    made.flush()
    assert made.held is None


def test_a_cut_episode_ends_at_its_latest_transition_truncated():
    made, link = sender(per_message=2)
    link.listening_now = True
    for reward in range(3):
        made.record(transition(reward))
    assert link.sent == [(0, [0.0, 1.0])]  # the latest stays back
    assert made.truncate_last()
    made.flush()
    assert made.outbox == [] and not made.truncate_last()  # nothing left to end
    assert link.sent[-1] == (1, [2.0]) and link.truncated == [[False, False], [True]]
