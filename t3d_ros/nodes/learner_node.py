"""
learner_node: transitions in, TD3 updates in their own thread, policy bundles out.

Ingests ``/t3d/transitions`` from any number of actors (validated, bad rows dropped and
counted), keeps the update-to-data ratio between a floor and a ceiling with a rate limiter (and
asks lockstep actors to wait on ``/t3d/throttle`` when they run ahead of the floor), publishes
the actor on ``/t3d/policy`` (transient local) every ``publish_every`` updates, writes
checkpoints, and resumes from them.
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
from t3d_ros.ros.spin import run_node
from t3d_ros.nodes.learner_params import LEARNER_PARAMS
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.training.learner import Learner, learner_settings
from t3d_ros.training.run_dir import RunDirectory

DIAGNOSTICS_PERIOD = 1.0


class LearnerNode(Node):

    def __init__(self, **kwargs):
        super().__init__('learner', **kwargs)
        p = LEARNER_PARAMS.declare(self)
        self.task = make_task(p['task'])
        config, options = learner_settings(p)
        run_dir = p['run_dir']
        self.signing_key = (signing.load_key(p['signing_key_file']) if p['signing_key_file']
                            else None)
        torch.set_num_threads(p['torch_threads'])

        self.drops = DropCounter(self.get_logger(), 'transitions')
        self.codec = messages.TransitionCodec(self.task.obs_dim, self.task.num_joints)
        self.policy_pub = self.create_publisher(UInt8MultiArray, '/t3d/policy',
                                                messages.LATCHED_QOS)
        self.throttle_pub = self.create_publisher(Bool, '/t3d/throttle', messages.LATCHED_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        run = RunDirectory(run_dir) if run_dir else None
        self.learner = Learner(self.task, config, options, run, on_policy=self._publish_policy,
                               on_throttle=self._publish_throttle)
        if p['resume'] and self.learner.resume():
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
            f'batch {config.batch_size}, {self._ratio_text(config)} updates per env step '
            f'after {config.learning_starts} steps, on {options.device}')

    @staticmethod
    def _ratio_text(config) -> str:
        ceiling = config.max_updates_per_step
        if ceiling in (0, config.updates_per_step):
            return f'{config.updates_per_step:g}'
        return f'{config.updates_per_step:g} to {ceiling:g}'

    def _on_transitions(self, msg: Float32MultiArray) -> None:
        try:
            batch, bad_rows = self.codec.decode(msg)
        except messages.InvalidMessage as error:
            self.drops.drop(error.reason, str(error))
            return
        inserted = self.learner.insert(batch)
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
