"""The policy an actor process runs, and where new ones come from (Acme's variable client)."""
from __future__ import annotations

import threading
from typing import NamedTuple

from rclpy.node import Node
from std_msgs.msg import UInt8MultiArray

from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.bundle.policy_bundle import BundleError, PolicyBundle
from t3d_ros.ros import messages
from t3d_ros.ros.drops import DropCounter
from t3d_ros.tasks.base import Task


class LoadedPolicy(NamedTuple):
    """A policy and the version of the bundle it came from (-1, None: no policy yet)."""

    policy: NumpyPolicy | None
    version: int


class PolicyClient:
    """
    The policy of one actor process.

    Training: each bundle from ``/t3d/policy`` is checked (size, signature, task, joints,
    layout, limits) and loaded on a thread of its own, so control never waits on decoding; a
    refused one is counted in ``drops`` and reported in ``faults`` (the node's that made the
    client) until a bundle is taken, and the previous policy stays. Deploy: the node ``use``s
    the bundle it checked at configure. An actor group's members share one client: one copy of
    the weights, each bundle decoded once. ``current`` changes in one assignment, so a reader
    never sees one bundle's policy with another's version; ``updates`` counts the changes.
    """

    def __init__(self, task: Task, max_bytes: int, signing_key: bytes | None,
                 drops: DropCounter, faults: dict[str, str]):
        self.task = task
        self.max_bytes = max_bytes
        self.signing_key = signing_key
        self.drops, self.faults = drops, faults
        self.current = LoadedPolicy(None, -1)
        self.updates = 0
        self._pending: UInt8MultiArray | None = None
        self._event = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False

    @property
    def policy(self) -> NumpyPolicy | None:
        return self.current.policy

    @property
    def version(self) -> int:
        return self.current.version

    def use(self, bundle: PolicyBundle) -> None:
        """Run ``bundle`` from now on."""
        self.faults.pop('policy', None)
        self.current = LoadedPolicy(NumpyPolicy.from_bundle(bundle), bundle.policy_version)
        self.updates += 1

    def connect(self, node: Node) -> list:
        """
        Subscribe ``node`` to ``/t3d/policy`` and start the loader thread (configure).

        Return both as (destroy, entity): the subscription, and the thread (``stop``).
        """
        subscription = node.create_subscription(UInt8MultiArray, '/t3d/policy', self._offer,
                                                messages.LATCHED_QOS)
        self._closing = False
        self._thread = threading.Thread(target=self._load_policies, daemon=True)
        self._thread.start()
        return [(node.destroy_subscription, subscription), (PolicyClient.stop, self)]

    def _offer(self, msg: UInt8MultiArray) -> None:
        """Hand the message to the loader thread (only the latest waits)."""
        self._pending = msg
        self._event.set()

    def stop(self) -> None:
        """
        End the loader thread and join it.

        A configure right after a cleanup must not leave two of them, and a closed node must not
        leave one waiting forever.
        """
        self._closing = True
        self._event.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def _load_policies(self) -> None:
        while True:
            self._event.wait()
            self._event.clear()
            if self._closing:
                return
            msg, self._pending = self._pending, None
            if msg is None:
                continue
            try:
                bundle = messages.parse_policy(msg, self.max_bytes, self.signing_key)
                bundle.check_matches(self.task)
            except (messages.InvalidMessage, BundleError) as error:
                self._refuse(error)
                continue
            self.use(bundle)

    def _refuse(self, error: messages.InvalidMessage | BundleError) -> None:
        reason = getattr(error, 'reason', None)
        unsigned = reason in ('unsigned', 'bad_signature')  # not the learner's
        self.faults['policy'] = f'refused policy: {error}'
        self.drops.drop(f'policy_{reason}' if unsigned else 'policy',
                        f'{error} (keeping version {self.version})', error=unsigned)
