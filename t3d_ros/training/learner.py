"""
The learner core.

Replay memory, TD3 updates between an update-to-data floor and ceiling, policy versions,
episode metrics and checkpoints. No ROS: the learner node converts messages and calls this; the
direct trainer calls it in one thread.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, NamedTuple

import numpy as np

from t3d_ros.acting.transitions import TransitionBatch
from t3d_ros.param_schema import check_fields
from t3d_ros.tasks.base import Task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.bundle.atomic import remove_temporary_files
from t3d_ros.td3.checkpoint import (latest_checkpoint, load_checkpoint, recover_checkpoints,
                                    save_checkpoint)
from t3d_ros.td3.config import TD3Config
from t3d_ros.td3.replay import replay_memory
from t3d_ros.td3.td3 import TD3
from t3d_ros.training.episodes import Episode, EpisodeTracker
from t3d_ros.training.rate_limiter import UpdateRateLimiter
from t3d_ros.training.run_dir import RunDirectory
from t3d_ros.training.streams import ActorStreams

POLICY_VERSION_BLOCK = 1000
"""Policy versions recorded in the run directory at a time (see ``Learner.publish_policy``)."""


@dataclass(frozen=True)
class LearnerOptions:
    """How the learner publishes, checkpoints and paces (TD3 itself is in TD3Config)."""

    publish_every: int = field(default=200, metadata=dict(low=1))
    """Updates between policy versions."""
    publish_target_actor: bool = False
    """Publish the Polyak-averaged actor target instead of the online actor."""
    checkpoint_every: int = field(default=5000, metadata=dict(low=0))
    """Updates between training checkpoints (0 = only at shutdown)."""
    keep_checkpoints: int = field(default=3, metadata=dict(low=1))
    """Newest checkpoints kept on disk."""
    save_replay: bool = False
    """Save the replay memory with each checkpoint, so a resume loses no data."""
    max_ahead: int = field(default=1000, metadata=dict(low=1))
    """Transitions inserts may run ahead of the update-to-data ratio before actors that can
    wait (lockstep sims) are asked to pause."""
    device: str = field(default='cpu', metadata=dict(choices=('cpu', 'cuda', 'auto')))
    """Torch device of the updates; on `cuda` the replay memory lives on the GPU too and is
    sampled there."""
    cuda_graph: bool = False
    """Replay each update as a CUDA graph (one launch instead of hundreds; device cuda only,
    ignored on the CPU)."""
    max_actors: int = field(default=256, metadata=dict(low=1))
    """Most actor ids tracked (episodes, sequence numbers); messages of more are refused
    (dropped and counted), so memory stays bounded by the replay capacity."""

    def __post_init__(self):
        check_fields(self)


def learner_settings(params: dict) -> tuple[TD3Config, LearnerOptions]:
    """
    Split a learner node's parameters into TD3 hyperparameters and learner options.

    The parameters are e.g. ``NodeSpec.resolved_parameters()``; other keys are ignored.
    """
    def pick(cls):
        return {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
    return TD3Config.from_dict(pick(TD3Config)), LearnerOptions(**pick(LearnerOptions))


class Inserted(NamedTuple):
    """What ``Learner.insert`` did with one actor's batch."""

    out_of_limits: int = 0
    """Rows dropped for actions outside the task's limits."""
    lost_messages: int = 0
    """Messages of this actor missing before this batch (a gap in its sequence numbers)."""
    restarted: bool = False
    """The actor restarted (its sequence went back): a new episode begins."""
    refused: bool = False
    """Nothing stored: the table of actors is full (``max_actors``)."""
    suspicious: bool = False
    """Nothing stored: its sequence number jumped further than the actor could have sent."""
    episodes: int = 0
    """Episodes this batch finished (each now in ``recent_returns``)."""


class Learner:
    """
    Thread-safe: ``insert`` from ingestion, updates in ``run_updates`` (own thread or not).

    ``on_policy`` is called with each new PolicyBundle (from the updating thread);
    ``on_throttle`` with each change of whether actors should wait, as it happens: from
    ``insert`` when they run ahead, from the updating thread as soon as the updates catch up
    (an actor told a tick later leaves the learner without data meanwhile).
    """

    def __init__(self, task: Task, config: TD3Config, options: LearnerOptions,
                 run: RunDirectory | None = None,
                 on_policy: Callable[[PolicyBundle], None] | None = None,
                 on_throttle: Callable[[bool], None] | None = None):
        self.task, self.config, self.options, self.run = task, config, options, run
        self.on_policy, self.on_throttle = on_policy, on_throttle
        device = resolve_device(options.device)
        self.agent = TD3(task.obs_dim, task.action_low, task.action_high, config, device=device,
                         cuda_graph=options.cuda_graph and device.startswith('cuda'))
        # On a GPU the memory lives there too: sampling copies no batch from the host.
        self.memory = replay_memory(task.obs_dim, task.num_joints, config.replay_capacity,
                                    config.seed, self.agent.device)
        self.limiter = UpdateRateLimiter(config.updates_per_step, config.learning_starts,
                                         options.max_ahead, config.max_updates_per_step or None)
        self.episodes = EpisodeTracker()
        self.streams = ActorStreams(options.max_actors)
        self.recent_returns: list[float] = []
        self.counters = dict(env_steps=0, episodes=0, policy_version=0, dropped_out_of_limits=0)
        self._metrics: tuple[Mapping[str, float], Mapping[str, float]] = ({}, {})
        """The newest delayed (actor) update's metrics and the newest update's; read in
        ``stats`` only, so updates copy nothing back from the device."""
        self.last_publish = time.monotonic()
        self._versions_recorded = 0
        """The policy versions up to this one are recorded in the run directory (issuable)."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._throttle_lock = threading.Lock()  # taken before _lock, never after it
        self._throttle_told: bool | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None
        """What ended the update thread, if it died."""

    @property
    def updates(self) -> int:
        return self.agent.total_updates

    # --- data -----------------------------------------------------------------------------

    def insert(self, batch: TransitionBatch) -> Inserted:
        """
        Add one actor's transitions (actions in physical units).

        The batch's ``seq``, where the actor numbers its messages, reveals lost messages,
        restarts, a stream joined mid-episode and impossible jumps (``ActorStreams``).
        """
        actor_id, action = batch.actor_id, batch.action
        arrival = self.streams.admit(actor_id, batch.seq)
        if arrival is None:
            return Inserted(refused=True)
        if arrival.suspicious:
            return Inserted(suspicious=True)
        if arrival.restarted:
            self.episodes.restart(actor_id)
        if arrival.lost or arrival.joined_late:
            self.episodes.interrupt(actor_id)
        tolerance = 1e-6 * (self.task.action_high - self.task.action_low)
        inside = np.all((action >= self.task.action_low - tolerance)
                        & (action <= self.task.action_high + tolerance), axis=1)
        dropped = int(len(inside) - inside.sum())
        finished = self.episodes.add(actor_id, batch.reward, batch.terminated | batch.truncated)
        with self._wake:
            if inside.any():
                self.memory.add_batch(batch.obs[inside], self.agent.scaler.to_unit(action[inside]),
                                      batch.reward[inside], batch.next_obs[inside],
                                      batch.terminated[inside])
            self.counters['env_steps'] += int(inside.sum())
            self.counters['dropped_out_of_limits'] += dropped
            self.limiter.record(self.counters['env_steps'], self.updates)
            self._wake.notify()
        for episode in finished:
            self._log_episode(episode)
        self.update_throttle()
        return Inserted(dropped, arrival.lost, arrival.restarted, episodes=len(finished))

    def _log_episode(self, episode: Episode) -> None:
        self.counters['episodes'] += 1
        self.recent_returns = (self.recent_returns + [episode.episode_return])[-10:]
        if self.run is not None:
            with self._lock:
                recent_ratio = self.limiter.ratios(self.counters['env_steps'], self.updates)[1]
            self.run.log_episode(self.counters['env_steps'], self.updates,
                                 self.counters['policy_version'], episode.actor_id,
                                 episode.episode_return, episode.length, recent_ratio)

    def should_throttle(self) -> bool:
        with self._lock:
            if len(self.memory) < max(self.config.batch_size, 1):
                # No update can run before a batch is stored (a resume without the replay
                # memory starts empty): asking the actors to wait would wait for ever.
                self.limiter.throttled = False
                return False
            return self.limiter.should_throttle(self.counters['env_steps'], self.updates)

    def update_throttle(self) -> bool:
        """Evaluate the throttle; tell ``on_throttle`` if it changed (or was never told)."""
        with self._throttle_lock:  # evaluated and told in one step: no older value told last
            throttled = self.should_throttle()
            if throttled != self._throttle_told:
                self._throttle_told = throttled
                if self.on_throttle is not None:
                    self.on_throttle(throttled)
        return throttled

    # --- updates --------------------------------------------------------------------------

    def run_updates(self, block: bool = False) -> int:
        """
        Run the updates the rate limiter allows now; with ``block``, wait for data first.

        Returns how many ran.
        """
        with self._wake:
            if block:
                self._wake.wait_for(lambda: self._stopping or self._allowed() > 0, timeout=0.5)
            allowed = self._allowed()
        for _ in range(allowed):
            if self._stopping:
                break
            with self._lock:
                batch = self.memory.sample(self.config.batch_size, device=self.agent.device)
            metrics = self.agent.update(batch)
            self._metrics = (metrics if 'actor_loss' in metrics else self._metrics[0],
                             metrics)  # swap: read elsewhere
            self._after_update()
        return allowed

    def _allowed(self) -> int:
        if len(self.memory) < max(self.config.batch_size, 1):
            return 0
        return self.limiter.updates_allowed(self.counters['env_steps'], self.updates)

    def _after_update(self) -> None:
        if self.limiter.throttled:
            self.update_throttle()  # caught up: the actors go on now
        if self.updates % self.options.publish_every == 0:
            self.publish_policy()
        if self.options.checkpoint_every and self.updates % self.options.checkpoint_every == 0:
            self.checkpoint()

    def publish_policy(self) -> None:
        """
        Make the next policy version and hand it to ``on_policy`` (if any: only then a bundle).

        With a run directory, the version is recorded there before anyone sees it, so a
        learner that crashes and resumes from an older checkpoint goes on above it instead of
        issuing a version number again with other weights. It records POLICY_VERSION_BLOCK
        versions at a time: a durable write per version, on the update thread every
        ``publish_every`` updates, cost 5 % of its time over ROS here. A learner resumed after a
        crash skips what is left of the block; ``close`` records the last version issued.
        """
        self.counters['policy_version'] += 1
        version = self.counters['policy_version']
        if self.run is not None and version > self._versions_recorded:
            self._versions_recorded = version + POLICY_VERSION_BLOCK - 1
            self.run.record_policy_version(self._versions_recorded)
        self.last_publish = time.monotonic()
        if self.on_policy is not None:
            self.on_policy(self.bundle())

    def bundle(self) -> PolicyBundle:
        return PolicyBundle.from_agent(self.agent, self.task, self.counters['policy_version'],
                                       use_target=self.options.publish_target_actor)

    def start(self) -> None:
        """Run updates in a background thread until ``stop``."""
        self._thread = threading.Thread(target=self._update_loop, name='td3-updates',
                                        daemon=True)
        self._thread.start()

    def _update_loop(self) -> None:
        try:
            while not self._stopping:
                self.run_updates(block=True)
        except BaseException as error:  # the owner raises it again (check_healthy)
            self.failure = error

    def check_healthy(self) -> None:
        """
        Raise if the update thread died.

        Ingesting on with frozen updates would only stall the actors (throttled for ever) without
        saying why.
        """
        if self.failure is not None:
            raise RuntimeError(f'TD3 updates stopped: {self.failure!r}') from self.failure

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # --- persistence ----------------------------------------------------------------------

    def checkpoint(self):
        """
        Write a training checkpoint and the current policy bundle into the run directory.

        Call it where no update runs (the updating thread, or after ``stop``). Inserts wait
        only while the counters and the memory are copied, not while the files are written.
        """
        if self.run is None:
            return None
        with self._lock:
            counters = dict(self.counters, **self.limiter.state())
            memory = self.memory.copy(with_transitions=self.options.save_replay)
        path = save_checkpoint(self.run.checkpoints, self.agent, counters, memory=memory,
                               save_memory=self.options.save_replay,
                               keep=self.options.keep_checkpoints)
        remove_temporary_files(self.run.path)  # a policy file write a crash cut short
        self.bundle().save(self.run.policy_file)
        return path

    def resume(self) -> bool:
        """
        Continue from the newest checkpoint in the run directory, if there is one.

        Updates wait until the memory holds ``learning_starts`` transitions, as in a fresh run
        (a checkpoint without the replay memory restores none).
        """
        if self.run is None:
            return False
        recover_checkpoints(self.run.checkpoints)  # what a crash while saving left behind
        remove_temporary_files(self.run.path)
        path = latest_checkpoint(self.run.checkpoints)
        if path is None:
            return False
        counters = load_checkpoint(path, self.agent, self.memory)
        self.counters.update({k: v for k, v in counters.items() if k in self.counters})
        self.limiter.resume(counters, self.counters['env_steps'], self.updates, len(self.memory))
        self.counters['policy_version'] = max(self.counters['policy_version'],
                                              self.run.last_policy_version())
        return True

    def close(self) -> None:
        """Stop updating; save the final checkpoint and policy bundle."""
        self.stop()
        self.checkpoint()
        if self.run is not None:
            # No version above this one was issued: a resume goes on from it, not the block's end.
            self.run.record_policy_version(self.counters['policy_version'])
            self.run.close()

    def stats(self) -> dict:
        """
        Return the counters, losses and rates.

        ``updates_per_step`` and ``recent_updates_per_step`` are the actual update-to-data
        ratios since learning started and over the rate limiter's window.
        """
        recent = float(np.mean(self.recent_returns)) if self.recent_returns else float('nan')
        with self._lock:
            ratio, recent_ratio = self.limiter.ratios(self.counters['env_steps'], self.updates)
        lost = {f'lost_messages.{actor}': n for actor, n in self.streams.lost.items() if n}
        return dict(self.counters, updates=self.updates, buffer_size=len(self.memory),
                    recent_return=recent, policy_age_s=time.monotonic() - self.last_publish,
                    throttled=self.limiter.throttled, actors=len(self.streams),
                    updates_per_step=ratio, recent_updates_per_step=recent_ratio,
                    lost_messages=self.streams.total_lost(),
                    actor_restarts=self.streams.total_restarts(),
                    refused_actor_messages=self.streams.refused,
                    suspicious_messages=self.streams.suspicious,
                    episodes_discarded=self.episodes.discarded, **lost,
                    **{**self._metrics[0], **self._metrics[1]})


def resolve_device(device: str) -> str:
    import torch

    if device == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device {device!r} requested but CUDA is not available')
    return device
