"""One transition batch from the actor core to the learner: built, encoded, decoded, inserted."""
import numpy as np

from t3d_ros.acting.core import ActorCore, ActorSettings
from t3d_ros.acting.transitions import TRANSITION_FIELDS, TransitionBatch
from t3d_ros.ros import messages
from t3d_ros.tasks import make_task
from t3d_ros.td3.config import TD3Config
from t3d_ros.training.learner import Learner, LearnerOptions


def core_transitions(task, count):
    """Return ``count`` transitions the actor core closed on made-up joint states."""
    core = ActorCore(task, ActorSettings(start_steps=10**6), seed=2)
    core.begin_episode()
    state, obs, _ = core.observe(np.zeros(task.num_joints), np.zeros(task.num_joints))
    closed = []
    for i in range(count):
        command = core.choose(obs, None)
        core.sent(state, obs, command)
        position = np.full(task.num_joints, 0.01 * (i + 1))
        state, obs, transition = core.observe(position, -position)
        closed.append(transition)
    return closed


def test_a_batch_of_the_cores_transitions_has_a_column_per_field_in_their_order():
    task = make_task('reacher')
    closed = core_transitions(task, 4)
    batch = TransitionBatch.of(closed, 'robot_3', 7, seq=5)
    assert (batch.actor_id, batch.policy_version, batch.seq) == ('robot_3', 7, 5)
    assert batch.obs.shape == batch.next_obs.shape == (4, task.obs_dim)
    assert batch.action.shape == (4, task.num_joints)
    assert batch.terminated.dtype == batch.truncated.dtype == bool
    for field in TRANSITION_FIELDS:
        np.testing.assert_array_equal(getattr(batch, field),
                                      [getattr(transition, field) for transition in closed])


def test_the_learner_takes_the_decoded_batch_whole():
    task = make_task('pendulum')
    batch = TransitionBatch.of(core_transitions(task, 6), 'robot_0', 0, seq=0)
    codec = messages.TransitionCodec(task.obs_dim, task.num_joints)
    decoded, bad_rows = codec.decode(codec.encode(batch))
    assert bad_rows == 0 and decoded._replace(**{f: None for f in TRANSITION_FIELDS}) == (
        batch._replace(**{f: None for f in TRANSITION_FIELDS}))
    learner = Learner(task, TD3Config(hidden_sizes=(8,), batch_size=4, replay_capacity=100),
                      LearnerOptions())
    inserted = learner.insert(decoded)
    assert not inserted.refused and inserted.out_of_limits == 0
    assert learner.counters['env_steps'] == len(learner.memory) == 6
    memory = learner.memory
    np.testing.assert_array_equal(memory.obs[:6], batch.obs.astype(np.float32))
    np.testing.assert_array_equal(memory.action[:6], task.action_scaler.to_unit(
        batch.action).astype(np.float32))
    np.testing.assert_array_equal(memory.reward[:6], batch.reward.astype(np.float32))
    np.testing.assert_array_equal(memory.terminated[:6], batch.terminated)
