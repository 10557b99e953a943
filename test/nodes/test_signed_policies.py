"""
Signed policy bundles (docs/architecture.md, "Files").

With a key file, the learner signs every bundle and training actors take only bundles signed with
that key.
"""
import pytest
from std_msgs.msg import UInt8MultiArray

from t3d_ros.bundle import signing
from t3d_ros.ros import messages
from t3d_ros.nodes.learner_node import LearnerNode
from t3d_ros.bundle.policy_bundle import PolicyBundle
from test_actor_safety import FakeRobot, make_bundle, start_train_actor
from test_learner_node import CODEC, SMALL, TIMEOUT, target_updates, transitions


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / 'policy.key'
    path.write_bytes(b'0123456789abcdef0123456789abcdef\n')
    return path


def test_the_learner_signs_every_bundle_with_its_key(ros, key_file):
    learner = ros.start(LearnerNode, **{**SMALL, 'signing_key_file': str(key_file)})
    io = ros.plain_node('signing_test_io')
    received = []
    io.create_subscription(UInt8MultiArray, '/t3d/policy', received.append,
                           messages.LATCHED_QOS)
    pub = io.create_publisher(type(CODEC.encode(transitions(1))), '/t3d/transitions',
                              messages.TRANSITIONS_QOS)
    assert ros.spin_until(lambda: pub.get_subscription_count() >= 1, TIMEOUT)
    pub.publish(CODEC.encode(transitions(40, seed=1)))
    # The condition is the last bundle, not a count: the subscription keeps the latest alone.
    last = target_updates(40) // SMALL['publish_every']
    assert last >= 1
    assert ros.spin_until(lambda: any(
        PolicyBundle.from_bytes(bytes(msg.data)).policy_version == last for msg in received),
        TIMEOUT), learner.learner.stats()
    key = signing.load_key(key_file)
    for msg in received:
        bundle = messages.parse_policy(msg, 2**20, key)  # verifies, or raises
        assert bundle.policy_version >= 1
        # data stays a plain bundle: readers without a key go on as before
        assert PolicyBundle.from_bytes(bytes(msg.data)).policy_version == bundle.policy_version
    with pytest.raises(messages.InvalidMessage, match='bad_signature'):
        messages.parse_policy(received[0], 2**20, b'another key, sixteen bytes+')
    assert learner.signing_key == key


def test_an_actor_with_a_key_drops_unsigned_and_wrongly_signed_bundles(ros, key_file):
    key = signing.load_key(key_file)
    robot = FakeRobot(ros, reset_service=True)
    actor = start_train_actor(ros, signing_key_file=str(key_file))
    robot.stream()
    forged = {
        'unsigned': messages.policy_msg(make_bundle(seed=5, version=7)),
        'bad_signature': messages.policy_msg(make_bundle(seed=6, version=8),
                                             b'not the learner key, but long'),
    }
    tampered = messages.policy_msg(make_bundle(seed=7, version=9), key)  # signed, then changed
    other = make_bundle(seed=9, version=9).to_bytes()
    tampered.data = other
    forged['tampered'] = tampered
    for count, (kind, msg) in enumerate(forged.items(), start=1):
        robot.policy_pub.publish(msg)
        reason = 'unsigned' if kind == 'unsigned' else 'bad_signature'
        expected = 2 if kind == 'tampered' else 1
        assert ros.spin_until(
            lambda: actor.drops.counts().get(f'dropped_input_policy_{reason}') == expected,
            timeout=10), (kind, actor.drops.counts())
        assert actor.policy is None and actor.policy_version == -1, kind
    values = robot.actor_diagnostics
    assert ros.spin_until(lambda: values().get('dropped_input_policy_bad_signature') == '2'
                          and values().get('dropped_input_policy_unsigned') == '1', timeout=5)
    # The learner's signed bundle is taken.
    good = make_bundle(seed=3, version=4)
    robot.policy_pub.publish(messages.policy_msg(good, key))
    assert ros.spin_until(lambda: actor.policy_version == 4, timeout=10)
    robot.stop()


def test_without_a_key_signed_and_unsigned_bundles_both_work(ros):
    robot = FakeRobot(ros, reset_service=True)
    actor = start_train_actor(ros)
    robot.stream()
    robot.policy_pub.publish(messages.policy_msg(make_bundle(version=1)))
    assert ros.spin_until(lambda: actor.policy_version == 1, timeout=10)
    robot.policy_pub.publish(messages.policy_msg(make_bundle(version=2), b'k' * 32))
    assert ros.spin_until(lambda: actor.policy_version == 2, timeout=10)
    robot.stop()
