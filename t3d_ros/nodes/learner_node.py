"""
learner_node: transitions in, TD3 updates in their own thread, policy bundles out.

Ingests ``/t3d/transitions`` from any number of actors (validated, bad rows dropped and
counted), keeps the update-to-data ratio with a rate limiter (and asks lockstep actors to wait
on ``/t3d/throttle`` when they run ahead), publishes the actor on ``/t3d/policy`` (transient
local) every ``publish_every`` updates, writes checkpoints, and resumes from them.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from std_msgs.msg import Bool, Float32MultiArray, UInt8MultiArray

from t3d_ros.bundle import signing
from t3d_ros.ros import messages
from t3d_ros.ros.clocks import steady_timer
from t3d_ros.ros.drops import DropCounter
from t3d_ros.ros.params import declare
from t3d_ros.ros.spin import run_node
from t3d_ros.tasks import TASK_DESCRIPTION, make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.td3.config import TD3Config, field_docs
from t3d_ros.training.learner import Learner, LearnerOptions
from t3d_ros.training.run_dir import RunDirectory

DIAGNOSTICS_PERIOD = 1.0


RANGES = {
    # TD3Config (TD3Config.validate has the strict bounds, e.g. learning rates > 0)
    'hidden_sizes': (1, None), 'actor_lr': (0.0, None), 'critic_lr': (0.0, None),
    'gamma': (0.0, 1.0), 'tau': (0.0, 1.0), 'policy_noise': (0.0, None),
    'noise_clip': (0.0, None), 'policy_delay': (1, None), 'batch_size': (1, None),
    'replay_capacity': (1, None), 'learning_starts': (0, None), 'updates_per_step': (0.0, None),
    'seed': (0, None),
    # LearnerOptions
    'publish_every': (1, None), 'checkpoint_every': (0, None), 'keep_checkpoints': (1, None),
    'max_ahead': (1, None), 'max_actors': (1, None),
}
"""Inclusive (low, high) of the numeric parameters, None = open: in the descriptors, so
``ros2 param describe`` shows them and rcl refuses a value outside before the node starts."""
CHOICES = {'device': ('cpu', 'cuda', 'auto')}


def _range(name: str) -> dict:
    low, high = RANGES.get(name, (None, None))
    return dict(low=low, high=high)


class LearnerNode(Node):

    def __init__(self, **kwargs):
        super().__init__('learner', **kwargs)
        d = lambda *args, **kw: declare(self, *args, **kw)  # noqa: E731
        self.task = make_task(d('task', 'reacher', 'Task to learn. ' + TASK_DESCRIPTION))
        docs, defaults = field_docs(), TD3Config()
        td3 = {name: d(name, list(value) if isinstance(value, tuple) else value, docs[name],
                       element_type=int, **_range(name))
               for name, value in defaults.to_dict().items()}
        config = TD3Config.from_dict(td3)
        option_docs = field_docs(LearnerOptions)
        options = LearnerOptions(**{
            name: d(name, value, option_docs[name], choices=CHOICES.get(name), **_range(name))
            for name, value in LearnerOptions().__dict__.items()})
        run_dir = d('run_dir', '', 'Run directory (metrics, checkpoints, policy); empty = '
                    'none.')
        resume = d('resume', True, 'Continue from the newest checkpoint in run_dir if any.')
        key_file = d('signing_key_file', '', 'Key file: sign every policy bundle '
                     '(HMAC-SHA256) for actors given the same file; empty = unsigned.')
        self.signing_key = signing.load_key(key_file) if key_file else None
        torch.set_num_threads(d('torch_threads', 1, 'Torch CPU threads for the updates.',
                                low=1))

        self.drops = DropCounter(self.get_logger(), 'transitions')
        self.codec = messages.TransitionCodec(self.task.obs_dim, self.task.num_joints)
        self.policy_pub = self.create_publisher(UInt8MultiArray, '/t3d/policy',
                                                messages.LATCHED_QOS)
        self.throttle_pub = self.create_publisher(Bool, '/t3d/throttle', messages.LATCHED_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        run = RunDirectory(run_dir) if run_dir else None
        self.learner = Learner(self.task, config, options, run, on_policy=self._publish_policy,
                               on_throttle=self._publish_throttle)
        if resume and self.learner.resume():
            stats = self.learner.stats()
            self.get_logger().info(
                f'resumed from {run_dir}: {stats["updates"]} updates, {stats["env_steps"]} env '
                f'steps, policy version {stats["policy_version"]}')
            self.learner.publish_policy()
        self.learner.update_throttle()  # latched: a starting actor knows it may act
        self.create_subscription(Float32MultiArray, '/t3d/transitions', self._on_transitions,
                                 messages.TRANSITIONS_QOS)
        # Steady: the diagnostics must not stop without a /clock.
        steady_timer(self, DIAGNOSTICS_PERIOD, self._on_diagnostics_tick)
        self._rate_mark = (time.monotonic(), self.learner.updates)
        self._updates_per_s = 0.0
        """Updates/s over the last diagnostics period."""
        self.learner.start()
        # One readable line; every value: `ros2 param dump` (or the run's config.yaml).
        self.get_logger().info(
            f'learning {self.task.name}: {"-".join(map(str, config.hidden_sizes))} networks, '
            f'batch {config.batch_size}, {config.updates_per_step:g} updates per env step '
            f'after {config.learning_starts} steps, on {options.device}')

    def _on_transitions(self, msg: Float32MultiArray) -> None:
        try:
            batch, bad_rows = self.codec.decode(msg)
        except messages.InvalidMessage as error:
            self.drops.drop(error.reason, str(error))
            return
        inserted = self.learner.insert(batch.actor_id, batch.obs, batch.action, batch.reward,
                                       batch.next_obs, batch.terminated, batch.truncated,
                                       seq=batch.seq)
        if inserted.refused:
            self.drops.drop('too_many_actors', f'{batch.actor_id!r}: already '
                            f'{self.learner.options.max_actors} actors (max_actors)')
            return
        if inserted.suspicious:
            self.get_logger().warning(
                f'ignored a message of {batch.actor_id} numbered seq={batch.seq}: further ahead '
                'than the actor could have sent (forged or corrupt?)', throttle_duration_sec=5.0)
            return
        if bad_rows:
            self.drops.drop('bad_rows', f'{bad_rows} non-finite or absurd rows from '
                            f'{batch.actor_id}')
        if inserted.out_of_limits:
            self.drops.drop('action_out_of_limits', f'{inserted.out_of_limits} rows from '
                            f'{batch.actor_id}')
        if inserted.lost_messages:
            self.get_logger().warning(
                f'{inserted.lost_messages} transition messages of {batch.actor_id} were lost',
                throttle_duration_sec=5.0)
        if inserted.restarted:
            self.get_logger().info(f'{batch.actor_id} restarted: a new episode begins')
        if inserted.episodes:  # a new return: say it now, not at the next tick
            self._publish_diagnostics()

    def _publish_throttle(self, throttled: bool) -> None:
        self.throttle_pub.publish(Bool(data=throttled))

    def _publish_policy(self, bundle: PolicyBundle) -> None:
        self.policy_pub.publish(messages.policy_msg(bundle, self.signing_key))

    def _on_diagnostics_tick(self) -> None:
        now, updates = time.monotonic(), self.learner.updates
        self._updates_per_s = ((updates - self._rate_mark[1])
                               / max(now - self._rate_mark[0], 1e-9))
        self._rate_mark = (now, updates)
        self._publish_diagnostics()
        self.learner.check_healthy()  # the update thread died: fail, so the process exits 1

    def _publish_diagnostics(self) -> None:
        throttled = self.learner.update_throttle()
        values = dict(self.learner.stats(), updates_per_s=self._updates_per_s)
        values.update(self.drops.counts())
        failure = self.learner.failure
        level, message = messages.diagnostic_level(
            [f'TD3 updates stopped: {failure!r}'] if failure is not None else [],
            ['throttling the actors: updates are behind'] if throttled else [])
        self.diagnostics_pub.publish(messages.diagnostics_msg(
            self.get_clock().now().nanoseconds, 't3d/learner', 'learner', values, level,
            message))

    def close(self) -> None:
        """Stop updating, save the final checkpoint and policy bundle."""
        self.learner.close()
        if self.learner.run is not None:
            self.get_logger().info(f'saved {Path(self.learner.run.policy_file)}')


def main(args=None) -> int:
    return run_node(LearnerNode, args)


if __name__ == '__main__':
    raise SystemExit(main())
