"""What is wrong with an actor now, as its ``/diagnostics`` status says it."""
from __future__ import annotations


def actor_health(actor) -> tuple[list[str], list[str]]:
    """Return an ``ActorNode``'s errors (a setup to fix) and warnings (the robot is held)."""
    errors = [f'not configured: {actor.refusal}'] if actor.refusal else []
    errors += actor.faults.values()
    if actor.e_stop_gate.unheard:
        errors.append(f'{actor.e_stop_gate.unheard} e_stop publisher(s) it cannot hear: '
                      'safe commands')
    warnings = [warning for warning, now in (
        ('stale joint state: safe commands', actor.robot_state.stale),
        ('e_stop engaged: safe commands', actor.e_stop_gate.engaged),
        ('throttled: waiting for the learner', actor.sender.throttled)) if now]
    return errors, warnings
