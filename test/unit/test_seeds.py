"""The named seed streams: their values never change, and each is independent of the others."""
import numpy as np

from t3d_ros.tasks.seeds import SeedStream, episode_rngs, robot_seed, stream_rng


def test_each_stream_is_the_spawn_key_runs_were_seeded_with():
    """Renumbering a stream would give a seed other episodes than it gave before."""
    children = np.random.SeedSequence(9).spawn(len(SeedStream))
    for stream, child in zip(SeedStream, children):
        np.testing.assert_array_equal(stream_rng(9, stream).random(4),
                                      np.random.default_rng(child).random(4), err_msg=stream.name)
    assert [stream.value for stream in SeedStream] == [0, 1, 2, 3]


def test_episode_rngs_are_deterministic_per_seed():
    first, second = episode_rngs(7), episode_rngs(7)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.random(5), b.random(5))
    other_state, _ = episode_rngs(8)
    assert not np.array_equal(episode_rngs(7)[0].random(5), other_state.random(5))


def test_streams_are_independent():
    draws = [stream_rng(3, stream).random(5) for stream in SeedStream]
    assert len({d.tobytes() for d in draws}) == len(SeedStream)
    # Goals do not depend on how many initial states were drawn (sim and actor draw apart).
    _, untouched_goal = episode_rngs(3)
    busy_state, busy_goal = episode_rngs(3)
    busy_state.random(1000)
    np.testing.assert_array_equal(untouched_goal.random(5), busy_goal.random(5))


def test_robot_seeds_are_the_children_of_the_run_seed():
    children = np.random.SeedSequence(5).spawn(3)
    assert [robot_seed(5, i) for i in range(3)] == [
        int(child.generate_state(1)[0]) for child in children]
