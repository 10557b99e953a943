"""
Policy propagation.

A bundle published -> a ready policy in another process, against the same bytes received only.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from t3d_ros.tasks import make_task

from .common import ANSWER_TIMEOUT, STARTUP_TIMEOUT, TASK, BenchError, random_bundle
from .ros import ACK_TOPIC, POLICY_TOPIC, HelperSpec, Session, ros_session


def bench_policy_propagation(count: int = 50) -> dict:
    """
    Measure policy propagation: a 256-256 bundle published until it is ready in another process.

    Published as the learner does (transient local), received and made into a ready policy in
    another process (as the actor does), vs received only.
    """
    bundle = random_bundle(make_task(TASK))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, decode in (('decoded', True), ('bytes_only', False)):
            receiver = HelperSpec('policy_receiver', 'policy_receiver', '', (),
                                  {'decode': decode})
            with ros_session([receiver], Path(tmp) / name) as session:
                delays = _propagation_delays(session, bundle, count)
            p50, p90 = np.percentile(delays, [50, 90]) * 1e3
            results.update({f'{name}_p50_ms': float(p50), f'{name}_p90_ms': float(p90)})
    return dict(results, bundle_bytes=len(bundle.to_bytes()), count=count)


def _propagation_delays(session: 'Session', bundle, count: int) -> list[float]:
    """
    Seconds from publishing the bundle to the receiver's acknowledgement, one at a time.

    Acknowledgements carry the receiver's message count, so none is mistaken for another.
    """
    from std_msgs.msg import Int64, UInt8MultiArray

    from t3d_ros.ros import messages

    acks: list[tuple[float, int]] = []  # (time received, receiver's count)
    session.node.create_subscription(Int64, ACK_TOPIC, lambda msg: acks.append(
        (time.perf_counter(), msg.data)), messages.ROBOT_QOS)
    publisher = session.node.create_publisher(UInt8MultiArray, POLICY_TOPIC, messages.LATCHED_QOS)
    msg = messages.policy_msg(bundle)
    session.wait_for(lambda: acks, STARTUP_TIMEOUT, 'the policy receiver',
                     action=lambda: publisher.publish(msg), period=1.0)
    quiet = False
    while not quiet:  # until the messages published during discovery are all acknowledged
        seen = len(acks)
        quiet = not session.spin_until(lambda: len(acks) > seen, 1.0)
    received = acks[-1][1]
    delays = []
    for _ in range(count):
        start = time.perf_counter()
        publisher.publish(msg)
        received += 1
        if not session.spin_until(lambda: acks[-1][1] >= received, ANSWER_TIMEOUT):
            raise BenchError(f'policy {received} not acknowledged within {ANSWER_TIMEOUT} s'
                             f'{session.logs()}')
        delays.append(acks[-1][0] - start)
    return delays
