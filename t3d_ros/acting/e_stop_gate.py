"""
When an actor may command from its policy, as far as ``e_stop`` goes (no ROS).

The node feeds the gate the e_stop values it hears (once per message, from publishers of any
QoS) and, from the ROS graph, how many e_stop publishers there are and how many of them it
cannot hear; the gate says whether the policy may command now. Safe commands otherwise
(docs/architecture.md, "Safety").
"""
from __future__ import annotations

import time
from typing import Callable

E_STOP_WAIT = 1.5
"""Deploy: longest wait after activation for the first value of a known e_stop publisher
(longer than the 1 s between the messages of ``ros2 topic pub``). Also how long a publisher
may stay unheard before it is reported as an error."""


class EStopGate:
    """
    The e_stop state of one actor.

    Closed while e_stop is engaged (the latest value heard is true) and while an e_stop
    publisher is in the graph that the actor cannot hear (another type, a QoS it cannot match).

    ``waits_for_first_value`` (deploy): a latched e_stop value reaches a starting actor only
    after discovery, which may come after the first joint states, and a volatile publisher's
    next message comes when it republishes: an actor started while e_stop is engaged would
    otherwise send policy commands first. So until the first e_stop value, the gate is closed
    while an e_stop publisher is known, for at most E_STOP_WAIT s after activation (a
    publisher that never published must not block the robot forever). Training does not wait:
    in lockstep a safe command would step the sim with an action nobody chose.
    """

    def __init__(self, waits_for_first_value: bool, clock: Callable[[], float] = time.monotonic):
        self.waits_for_first_value = waits_for_first_value
        self._clock = clock
        self.engaged = False
        self.settled = False
        """The e_stop value is known (heard), or no longer waited for."""
        self.unheard = 0
        """e_stop publishers in the graph that the actor cannot hear."""
        self._unheard_since: float | None = None
        self._activated_at = clock()

    def activated(self) -> None:
        """Note the actor's activation: the wait for a first value starts now."""
        self._activated_at = self._clock()

    def hear(self, engaged: bool) -> bool:
        """Take an e_stop value; return whether it changed the state (engaged or released)."""
        changed = engaged != self.engaged
        self.engaged = engaged
        self.settled = True
        return changed

    def count_unheard(self, unheard: int) -> bool:
        """
        Take the number of e_stop publishers the actor cannot hear (the ROS graph's).

        Return whether they have been unheard for E_STOP_WAIT s: discovery shows a new
        publisher in the graph and matches it at about the same time, so an unmatched one is
        only an error after that; the gate is closed at once.
        """
        self.unheard = unheard
        if not unheard:
            self._unheard_since = None
            return False
        now = self._clock()
        self._unheard_since = self._unheard_since or now
        return now - self._unheard_since >= E_STOP_WAIT

    def allows_policy(self, publishers: Callable[[], int]) -> bool:
        """
        Whether the policy may command now.

        ``publishers()`` counts the e_stop publishers in the graph (any type and QoS); it is
        asked only while the first value is awaited.
        """
        return not self.engaged and not self.unheard and self._value_known(publishers)

    def _value_known(self, publishers: Callable[[], int]) -> bool:
        if not self.waits_for_first_value or self.settled:
            return True
        if self._clock() - self._activated_at >= E_STOP_WAIT or publishers() == 0:
            self.settled = True
        return self.settled
