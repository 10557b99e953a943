"""The sim core alone: seeded episodes, time and realtime latency."""
import numpy as np
import pytest

from t3d_ros.envs.sim_core import SimCore
from t3d_ros.tasks import make_task
from t3d_ros.tasks.seeds import episode_rngs


@pytest.fixture
def pendulum():
    sim = SimCore(make_task('pendulum'), seed=6)
    yield sim
    sim.close()


def test_episodes_start_from_the_seeds_initial_states_and_time_moves_a_period_each(pendulum):
    sim, rng = pendulum, episode_rngs(6)[0]
    first, second = (sim.task.sample_initial_state(rng) for _ in range(2))
    sim.reset()
    np.testing.assert_array_equal(sim.observe()[0], first[0])
    sim.new_episode()  # not begun yet: kept
    np.testing.assert_array_equal(sim.observe()[0], first[0])
    sim.step(np.array([1.0]))
    sim.new_episode()
    np.testing.assert_array_equal(sim.observe()[0], second[0])
    assert sim.time_ns == 4 * sim.step_ns
    assert sim.counters == {'steps': 1, 'resets': 2}


def test_a_realtime_command_acts_after_the_latency(pendulum):
    sim = SimCore(pendulum.task, actuation_latency_ns=2 * pendulum.step_ns)
    try:
        sim.reset()
        sim.actuate(np.array([1.5]))
        efforts = []
        for _ in range(4):
            sim.tick()
            efforts.append(sim.observe()[2][0])
        assert efforts == [0.0, 0.0, 1.5, 1.5]
    finally:
        sim.close()
