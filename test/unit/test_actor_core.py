"""
The actor core (episodes, exploration, time limit) and the direct trainer that runs it.

The actor node runs the same core; test/nodes/test_ros_path_equals_env.py checks that path.
"""
import numpy as np
import pytest

from t3d_ros.acting.core import ActorCore, ActorSettings
from t3d_ros.acting.exploration import explore, random_unit_action
from t3d_ros.acting.transitions import TRANSITION_FIELDS
from t3d_ros.tasks.scaling import ActionScaler
from t3d_ros.envs.task_env import TaskEnv
from t3d_ros.tasks import make_task
from t3d_ros.tasks.pendulum import PendulumTask
from t3d_ros.tasks.seeds import SeedStream, stream_rng
from t3d_ros.td3.config import TD3Config
from t3d_ros.training import direct
from t3d_ros.training.learner import Learner, LearnerOptions


class ConstantPolicy:
    def __init__(self, unit):
        self.unit, self.calls = np.asarray(unit, dtype=np.float64), 0

    def unit_action(self, obs):
        self.calls += 1
        return self.unit


def step(core, position, velocity, policy):
    """One control step as the actor node drives the core; returns (transition, command)."""
    state, obs, transition = core.observe(np.array(position), np.array(velocity))
    command = core.choose(obs, policy)
    core.sent(state, obs, command)
    return transition, command


def test_random_for_start_steps_then_policy_plus_noise_from_the_seeded_stream():
    task = make_task('pendulum')
    core = ActorCore(task, ActorSettings(start_steps=3, exploration_noise=0.2), seed=5)
    core.begin_episode()
    policy = ConstantPolicy([0.5])
    commands = [step(core, [0.1 * i], [0.0], policy)[1] for i in range(6)]

    rng = stream_rng(5, SeedStream.EXPLORATION)
    scaler = ActionScaler(task.action_low, task.action_high)
    expected = ([scaler.from_unit(random_unit_action(1, rng)) for _ in range(3)]
                + [scaler.from_unit(explore(np.array([0.5]), 0.2, rng)) for _ in range(3)])
    np.testing.assert_array_equal(commands, expected)
    assert policy.calls == 3 and core.env_steps == 5


def test_no_policy_means_random_actions_after_start_steps_too():
    task = make_task('pendulum')
    core = ActorCore(task, ActorSettings(start_steps=0), seed=1)
    core.begin_episode()
    rng = stream_rng(1, SeedStream.EXPLORATION)
    for i in range(3):
        command = step(core, [0.0], [0.0], None)[1]
        np.testing.assert_array_equal(
            command, ActionScaler(task.action_low, task.action_high).from_unit(
                random_unit_action(1, rng)))


def test_deploy_uses_the_policy_alone_and_keeps_no_transitions():
    task = make_task('pendulum')
    core = ActorCore(task, ActorSettings(start_steps=10, exploration_noise=0.5), training=False)
    policy = ConstantPolicy([0.25])
    for _ in range(3):
        transition, command = step(core, [0.0], [0.0], policy)
        assert transition is None
        np.testing.assert_array_equal(command, [0.5])  # 0.25 of the 2 N m half range
    assert core.env_steps == 0 and core.episodes == 0


def test_time_limit_truncates_and_an_episode_return_is_the_sum_of_rewards():
    task = make_task('pendulum')
    core = ActorCore(task, ActorSettings(start_steps=0), seed=2)
    core.begin_episode()
    policy = ConstantPolicy([0.0])
    transitions = []
    for i in range(task.max_episode_steps + 1):
        transition, _ = step(core, [0.01 * i], [0.0], policy)
        if transition is not None:
            transitions.append(transition)
    assert len(transitions) == task.max_episode_steps
    assert [t.truncated for t in transitions] == [False] * (task.max_episode_steps - 1) + [True]
    assert not any(t.terminated for t in transitions) and transitions[-1].done
    assert core.episodes == 1
    assert core.last_episode_return == pytest.approx(sum(t.reward for t in transitions))
    core.begin_episode()
    assert (core.episode_steps, core.episode_return) == (0, 0.0)
    assert step(core, [0.0], [0.0], policy)[0] is None  # a new episode closes nothing old


def test_termination_is_not_truncation_even_at_the_time_limit():
    class EndsAboveOne(PendulumTask):
        max_episode_steps = 3

        def terminated(self, state):
            return bool(state.position[0] > 1.0)

    core = ActorCore(EndsAboveOne(), ActorSettings(start_steps=0), seed=0)
    core.begin_episode()
    policy = ConstantPolicy([0.0])
    outcomes = [step(core, [position], [0.0], policy)[0]
                for position in (0.0, 0.5, 2.0)]  # the 2nd transition ends above 1
    assert outcomes[0] is None
    assert (outcomes[1].terminated, outcomes[1].truncated) == (False, False)
    assert (outcomes[2].terminated, outcomes[2].truncated) == (True, False)


def test_interrupt_drops_the_pending_transition():
    core = ActorCore(make_task('pendulum'), ActorSettings(start_steps=0), seed=0)
    core.begin_episode()
    policy = ConstantPolicy([0.0])
    step(core, [0.0], [0.0], policy)
    core.interrupt()
    assert step(core, [0.1], [0.0], policy)[0] is None and core.env_steps == 0


def test_a_cut_ends_the_episode_with_its_return_and_drops_the_pending_transition():
    core = ActorCore(make_task('pendulum'), ActorSettings(start_steps=0), seed=1)
    core.begin_episode()
    policy = ConstantPolicy([0.5])
    rewards = [step(core, [0.1 * i], [0.0], policy)[0] for i in range(3)][1:]
    core.cut()
    assert core.episodes == 1 and core.episode_steps == 0
    assert core.last_episode_return == pytest.approx(sum(t.reward for t in rewards))
    assert core.observe(np.array([0.5]), np.array([0.0]))[2] is None  # nothing after the cut
    core.cut()  # no steps since: no episode
    assert core.episodes == 1


def test_goals_follow_the_env_goal_stream_for_the_seed():
    task = make_task('reacher')
    core = ActorCore(task, seed=9)
    env = TaskEnv(task)
    try:
        for episode in range(3):
            env_obs, _ = env.reset(seed=9 if episode == 0 else None)
            np.testing.assert_array_equal(core.begin_episode(), env._episodes.state.goal)
    finally:
        env.close()


def test_settings_come_from_actor_parameters_and_bad_values_are_refused():
    settings = ActorSettings.from_parameters({'start_steps': 7, 'exploration_noise': 0.3,
                                              'task': 'reacher', 'seed': 1})
    assert settings == ActorSettings(start_steps=7, exploration_noise=0.3)
    with pytest.raises(ValueError, match='start_steps'):
        ActorSettings(start_steps=-1)
    with pytest.raises(ValueError, match='exploration_noise'):
        ActorSettings(exploration_noise=float('nan'))
    assert not {'start_steps', 'exploration_noise'} & set(TD3Config().to_dict())


@pytest.mark.parametrize('task_name,steps', [('pendulum', 230), ('reacher', 120)])
def test_direct_trainer_transitions_equal_the_env_step_for_step(monkeypatch, task_name, steps):
    """
    The direct trainer's robot + actor core reproduce the gymnasium env for its seed.

    With random start actions and then the policy plus noise, across episode ends.
    """
    inserted, learners = [], set()
    original = Learner.insert

    def record(self, batch):
        inserted.append([getattr(batch, field) for field in TRANSITION_FIELDS])
        learners.add(self)
        return original(self, batch)

    monkeypatch.setattr(Learner, 'insert', record)
    seed, task = 3, make_task(task_name)
    config = TD3Config(hidden_sizes=(8,), batch_size=8, replay_capacity=1000,
                       learning_starts=10**9, seed=seed)
    direct.train_direct(task_name, config, steps, LearnerOptions(checkpoint_every=0),
                        ActorSettings(start_steps=40, exploration_noise=0.1),
                        eval_every=10**9, eval_episodes=1)
    obs, action, reward, next_obs, terminated, truncated = (
        np.concatenate(column) for column in zip(*inserted))
    assert len(reward) == steps

    env = TaskEnv(task)
    try:
        expected_obs, _ = env.reset(seed=seed)
        for i in range(steps):
            np.testing.assert_array_equal(obs[i], expected_obs, err_msg=f'step {i}')
            expected_obs, expected_reward, ended, cut, _ = env.step(action[i])
            np.testing.assert_array_equal(next_obs[i], expected_obs, err_msg=f'step {i}')
            assert reward[i] == expected_reward and (terminated[i], truncated[i]) == (ended, cut)
            if ended or cut:
                expected_obs, _ = env.reset()
    finally:
        env.close()
    assert truncated.sum() == steps // task.max_episode_steps
    rng = stream_rng(seed, SeedStream.EXPLORATION)
    scaler = ActionScaler(task.action_low, task.action_high)
    (learner,) = learners  # no update ran (learning_starts): its policy is the initial one
    expected = [scaler.from_unit(random_unit_action(task.num_joints, rng)) for _ in range(40)]
    expected += [scaler.from_unit(explore(learner.agent.policy.unit_action(o), 0.1, rng))
                 for o in obs[40:]]
    np.testing.assert_allclose(action, expected, rtol=0, atol=1e-12)
