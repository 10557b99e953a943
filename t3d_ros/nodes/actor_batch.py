"""
The actor nodes of one actor group process: one policy, one forward pass per round.

Every member is an ordinary :class:`~t3d_ros.nodes.actor_node.ActorNode` in its own namespace
with its own topics, services, seeds and episodes. What they share:

- **the policy**: one policy client (``nodes/policy_client.py``) per process, made by the
  first member (the leader), which alone subscribes to ``/t3d/policy`` and runs the loader
  thread; every member runs the client's current policy, so the process holds one copy of the
  weights and decodes each bundle once;
- **inference**: a member's control step is submitted here instead of run at once, and the
  first submission of a round hands the executor a task, :meth:`ActorBatch.run_steps`. Either
  executor runs a new task after the callbacks that were already due (the events executor
  queues it behind the events that came before it, the wait-set executor runs it after the
  callbacks of the current wait), so it comes after the states that arrived together. It runs
  the submitted steps: each robot observes (closes its transition, checks its e_stop and
  episode), one forward pass of the client's current policy evaluates the observations that
  ask for it, and each robot sends its command. No step waits for a state that has not
  arrived (the task is due at once), so in lockstep nothing is lost or reordered, and each
  robot's numbers are those it would have alone (its exploration noise comes from its own
  generator).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from t3d_ros.nodes.policy_client import PolicyClient


class PolicyAnswer:
    """The policy's action for one observation, computed in a batch with other robots'."""

    def __init__(self, obs: np.ndarray, unit_action: np.ndarray):
        self.obs, self.unit = obs, unit_action

    def unit_action(self, obs: np.ndarray) -> np.ndarray:
        if obs is not self.obs:
            raise ValueError('a batched policy answer is for one observation only')
        return self.unit


class ActorBatch:
    """Members, the control steps they submitted this round, and running them."""

    def __init__(self):
        self.members = []
        self.pending = {}  # member -> (joint state reading, time received): the latest only
        self.policies: PolicyClient | None = None
        self.forward_passes = 0
        self.batched_observations = 0

    @property
    def leader(self):
        return self.members[0]

    def join(self, node, make_policy_client: Callable[[], PolicyClient]) -> PolicyClient:
        """
        Add ``node`` (from its constructor, before it configures); return the group's client.

        The first member makes it (``make_policy_client``) and leads. One task per group.
        """
        if self.members and node.task.name != self.leader.task.name:
            raise ValueError(f'an actor group runs one task: {node.get_namespace()} has '
                             f'{node.task.name!r}, {self.leader.get_namespace()} '
                             f'{self.leader.task.name!r}')
        if not self.members:
            self.policies = make_policy_client()
        self.members.append(node)
        return self.policies

    def counters(self) -> dict:
        """Return the group's robots, forward passes and observations evaluated (diagnostics)."""
        return dict(group_robots=len(self.members), group_forward_passes=self.forward_passes,
                    group_observations=self.batched_observations)

    def submit(self, node, reading, received: float) -> None:
        """
        Run ``node``'s control step on ``reading`` at the end of this round.

        A newer reading of the same robot replaces an older one, as a lone actor would act on it.
        """
        if not self.pending:  # the first of this round
            node.executor.create_task(self.run_steps)
        self.pending[node] = (reading, received)

    def run_steps(self) -> None:
        """
        Run the submitted control steps.

        Observe each, one forward pass for those whose choice asks the policy, then each
        command. The round runs one policy: the client's when it began (the loader thread may
        take a new one meanwhile).
        """
        submitted, self.pending = self.pending, {}
        policy = self.policies.policy
        steps = []
        for node, (reading, received) in submitted.items():
            step = node.observe_step(reading)
            if step is not None:
                steps.append((node, step, received))
        asking = [(node, step) for node, step, _ in steps if node.wants_policy(policy)]
        answers = {}
        if asking:
            units = policy.unit_action(np.stack([step.obs for _, step in asking]))
            self.forward_passes += 1
            self.batched_observations += len(asking)
            for (node, step), unit in zip(asking, units):
                answers[node] = PolicyAnswer(step.obs, unit)
        for node, step, received in steps:
            node.command_step(step, received, answers.get(node, policy))
