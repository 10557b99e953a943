"""
The actor core: one robot's episodes as its actor sees them (docs/architecture.md).

From joint states it builds the task's observations, chooses commands (uniform random for the
first ``start_steps``, then the policy plus Gaussian noise; the policy alone when deploying),
closes each transition with the task's reward and termination and the time limit (truncation
is not termination), keeps the episode return and the step counts, and samples a goal per
episode. Transport is the caller's: the actor node converts messages and calls this; the
gymnasium env and the direct trainer join it to a sim core in one process
(``t3d_ros.envs.in_process``). So every path produces the same transitions by construction.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Mapping, Protocol

import numpy as np

from t3d_ros.acting.exploration import explore, random_unit_action
from t3d_ros.acting.transitions import Transition
from t3d_ros.param_schema import check_fields
from t3d_ros.tasks.base import BaseState, RobotState, Task
from t3d_ros.tasks.seeds import SeedStream, stream_rng


@dataclass(frozen=True)
class ActorSettings:
    """How an actor explores while training: its parameters, never the learner's."""

    start_steps: int = field(default=10_000, metadata=dict(low=0))
    """Uniform random actions each actor takes before it uses the policy."""
    exploration_noise: float = field(default=0.1, metadata=dict(low=0.0))
    """Std of the Gaussian exploration noise, as a fraction of each joint's half range."""

    def __post_init__(self):
        check_fields(self)

    @classmethod
    def from_parameters(cls, params: Mapping) -> 'ActorSettings':
        """
        Pick the settings from an actor node's parameters; ignore other keys.

        ``params`` is e.g. ``NodeSpec.resolved_parameters()`` of an actor node.
        """
        return cls(**{field.name: params[field.name] for field in dataclasses.fields(cls)
                      if field.name in params})


class UnitPolicy(Protocol):
    """Anything that maps an observation to a normalised action in [-1, 1]."""

    def unit_action(self, obs: np.ndarray) -> np.ndarray:
        """Return the normalised action for ``obs``."""


class ActorCore:
    """
    One robot's actor side, without transport.

    Its caller drives it in this order, per control step: ``observe`` a new joint state
    (closes the pending transition, if any), ``choose`` a command (or take the ``command`` of
    an action of its own), send it (through the caller's safety layer) and report what was
    sent with ``sent``. A transition that ends the episode is followed by the robot's reset and
    ``begin_episode``; ``interrupt`` drops a pending command that will not get its next state
    (stale state, safe commands). ``training=False`` (deploy): no exploration, no transitions.
    """

    def __init__(self, task: Task, settings: ActorSettings = ActorSettings(), seed: int = 0,
                 training: bool = True):
        self.task, self.settings, self.training = task, settings, training
        # Goals: the stream the gymnasium env draws for the same seed; exploration: the actor's.
        self.goal_rng = stream_rng(seed, SeedStream.GOALS)
        self.noise_rng = stream_rng(seed, SeedStream.EXPLORATION)
        self.goal: np.ndarray | None = None
        self.env_steps = 0
        self.episodes = 0
        self.episode_steps = 0
        self.episode_return = 0.0
        self.last_episode_return = float('nan')
        self.target: np.ndarray | None = None
        """The joint target the action moves (``task.tracks_target``): the last command sent;
        None until the next ``observe`` starts it at the measured position."""
        self._action: np.ndarray | None = None  # the last ``choose``'s or ``command``'s
        self._pending: tuple[RobotState, np.ndarray, np.ndarray] | None = None

    def begin_episode(self) -> np.ndarray | None:
        """
        Begin an episode, once the robot has been reset; return its goal (or None).

        A new goal where the task has one; step count and return from zero.
        """
        self.goal = self.task.sample_goal(self.goal_rng)
        self.episode_steps = 0
        self.episode_return = 0.0
        self._pending = None
        self.target = None
        return self.goal

    def observe(self, position: np.ndarray, velocity: np.ndarray, base: BaseState | None = None
                ) -> tuple[RobotState, np.ndarray, Transition | None]:
        """
        Turn a new joint state (task joint order) into the state and observation.

        ``base`` is the floating base's state of the same instant (odometry), for tasks that
        have one.

        Also returns the transition it closes (training, after ``sent``), else None.
        """
        if self.task.tracks_target and self.target is None:
            self.target = self.task.initial_target(position)
        state = RobotState(position, velocity, self.goal, base, self.target)
        obs = self.task.observation(state)
        transition = self._close(state, obs) if self._pending is not None else None
        return state, obs, transition

    def choose(self, obs: np.ndarray, policy: UnitPolicy | None) -> np.ndarray:
        """
        Choose the command for ``obs`` (the last ``observe``'s), within the command limits.

        The action: training, uniform random while there is no policy or for the first
        ``start_steps``, then the policy's action plus N(0, exploration_noise), clipped;
        deploy, the policy's. The command is ``task.command`` of it (the action itself, or the
        target moved by it).
        """
        if not self.training:
            unit = policy.unit_action(obs)
        elif not self.wants_policy(policy):
            unit = random_unit_action(self.task.num_joints, self.noise_rng)
        else:
            unit = explore(policy.unit_action(obs), self.settings.exploration_noise,
                           self.noise_rng)
        return self._command(self.task.action_scaler.from_unit(unit))

    def command(self, action: np.ndarray) -> np.ndarray:
        """
        Return the command for a physical ``action`` chosen by the caller, as ``choose`` would.

        The action is clipped to its limits first (the gymnasium env's ``step``).
        """
        return self._command(self.task.clip_action(np.asarray(action, dtype=np.float64)))

    def _command(self, action: np.ndarray) -> np.ndarray:
        """Return ``task.command`` of ``action`` (within its limits); ``sent`` records it."""
        self._action = action
        return self.task.command(action, self.target)

    def wants_policy(self, policy: UnitPolicy | None) -> bool:
        """Whether ``choose`` asks ``policy`` for its action now (so a caller can batch it)."""
        return policy is not None and (not self.training
                                       or self.env_steps >= self.settings.start_steps)

    def sent(self, state: RobotState, obs: np.ndarray, command: np.ndarray) -> None:
        """
        Note that the robot was sent ``command`` (after any safety limits) in ``state``.

        Training closes its transition at the next ``observe``. Its action is the command as
        sent or, where the action moves a target, the action chosen; the target is then
        ``command``, so it builds on what the robot was actually told.
        """
        command = np.asarray(command, dtype=np.float64)
        if self.task.tracks_target:
            self.target, action = command.copy(), self._action
        else:
            action = command
        if self.training:
            self._pending = (state, obs, action)

    def interrupt(self) -> None:
        """No transition across this point: the pending command's is discarded."""
        self._pending = None

    def cut(self) -> None:
        """
        End the episode here (e_stop, watchdog, pause): no transition after its last one.

        It counts as an episode (its return is the last) if it had steps; the caller marks its
        last transition truncated.
        """
        self._pending = None
        if self.episode_steps:
            self.episodes += 1
            self.last_episode_return = self.episode_return
            self.episode_steps = 0

    def held(self) -> None:
        """
        Note that a safe command (hold the measured position) went out instead of a chosen one.

        A target the action moves starts again from the measured position at the next
        ``observe``, as at an episode's start, so the policy resumes where the robot is.
        """
        self.target = None

    def counters(self) -> dict:
        """Return the step and episode counts and the last return, for diagnostics."""
        return dict(env_steps=self.env_steps, episodes=self.episodes,
                    episode_steps=self.episode_steps,
                    last_episode_return=self.last_episode_return)

    def _close(self, state: RobotState, obs: np.ndarray) -> Transition:
        previous_state, previous_obs, action = self._pending
        self._pending = None
        reward = float(self.task.reward(previous_state, action, state))
        terminated = bool(self.task.terminated(state))
        self.env_steps += 1
        self.episode_steps += 1
        truncated = not terminated and self.episode_steps >= self.task.max_episode_steps
        self.episode_return += reward
        if terminated or truncated:
            self.episodes += 1
            self.last_episode_return = self.episode_return
        return Transition(previous_obs, action, reward, obs, terminated, truncated)
