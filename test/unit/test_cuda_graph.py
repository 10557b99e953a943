"""
The CUDA-graph update path, run on the CPU with a stand-in for the graphs.

A 'replay' runs the recorded call again on the static tensors: warm-up, one graph per kind of
update, static inputs, copied outputs, reset on load. No GPU on the test machine: what is left
untested is CUDA's own capture and replay.
"""
import numpy as np
import pytest
import torch

from t3d_ros.td3 import TD3, TD3Config
from t3d_ros.td3.cuda_graph import CapturedUpdate
from t3d_ros.td3.replay import DeviceReplayMemory
from t3d_ros.td3.td3 import NETWORKS

OBS_DIM, ACT_DIM = 4, 2
CONFIG = TD3Config(hidden_sizes=(16, 16), batch_size=32, policy_delay=2)


class EagerGraphs:
    """Stands in for CudaGraphs: capture records nothing and its replay calls the recording."""

    def __init__(self):
        self.warm_ups, self.captures = 0, 0

    def warm_up(self, call):
        self.warm_ups += 1
        return call()

    def capture(self, call):
        self.captures += 1
        return call


def memory():
    rng = np.random.default_rng(0)
    replay = DeviceReplayMemory(OBS_DIM, ACT_DIM, 500, seed=1)
    replay.add_batch(rng.normal(size=(500, OBS_DIM)), rng.uniform(-1, 1, (500, ACT_DIM)),
                     rng.normal(size=500), rng.normal(size=(500, OBS_DIM)), rng.random(500) < 0.1)
    return replay


def agent():
    return TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), CONFIG)


def same_networks(a: TD3, b: TD3) -> bool:
    return all(torch.equal(x, y) for name in NETWORKS for x, y in
               zip(getattr(a, name).parameters(), getattr(b, name).parameters()))


def test_graph_updates_equal_eager_updates():
    eager, graphed, graphs = agent(), agent(), EagerGraphs()
    graphed.backend.graphs = CapturedUpdate(graphed.backend.step, graphs, warmup=2)
    replay = memory()
    kept = []
    for _ in range(20):
        batch = replay.sample(CONFIG.batch_size)
        expected, metrics = eager.update(batch), graphed.update(batch)
        assert dict(metrics) == dict(expected)
        kept.append((metrics, dict(expected)))
    assert same_networks(eager, graphed)
    assert graphs.warm_ups == 4 and graphs.captures == 2  # 2 eager of each kind, 1 graph each
    assert set(graphed.backend.graphs.replays) == {False, True}
    # Metrics are copies: later replays did not overwrite earlier results.
    assert all(dict(metrics) == expected for metrics, expected in kept)


def test_load_state_dict_drops_the_graphs_and_updates_continue_alike():
    eager, graphed = agent(), agent()
    graphed.backend.graphs = CapturedUpdate(graphed.backend.step, EagerGraphs(), warmup=1)
    replay = memory()
    for _ in range(6):
        batch = replay.sample(CONFIG.batch_size)
        eager.update(batch)
        graphed.update(batch)
    assert graphed.backend.graphs.replays
    other = agent()
    other.load_state_dict(eager.state_dict())
    graphed.load_state_dict(eager.state_dict())
    graphs = graphed.backend.graphs
    assert not graphs.replays and graphs.eager_calls == {False: 0, True: 0}
    for _ in range(6):
        batch = replay.sample(CONFIG.batch_size)
        assert dict(graphed.update(batch)) == dict(other.update(batch))
    assert same_networks(other, graphed)


def test_cuda_graph_needs_a_cuda_device_and_the_fast_backend():
    with pytest.raises(ValueError, match='cuda_graph needs a CUDA device'):
        TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), CONFIG, cuda_graph=True)
    with pytest.raises(ValueError, match="cuda_graph needs backend 'fast', not 'plain'"):
        TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), CONFIG.replace(backend='plain'),
            cuda_graph=True)
    assert agent().backend.graphs is None


def test_learner_on_the_cpu_ignores_cuda_graph_and_keeps_a_host_memory():
    from t3d_ros.tasks import make_task
    from t3d_ros.td3.replay import ReplayMemory
    from t3d_ros.training.learner import Learner, LearnerOptions

    learner = Learner(make_task('pendulum'), CONFIG, LearnerOptions(cuda_graph=True))
    assert learner.agent.backend.graphs is None and type(learner.memory) is ReplayMemory


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_on_a_gpu_graph_updates_track_eager_updates():
    config = CONFIG
    eager = TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), config, device='cuda')
    graphed = TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), config, device='cuda',
                  cuda_graph=True)
    replay = DeviceReplayMemory(OBS_DIM, ACT_DIM, 500, device='cuda')
    replay.add_batch(*(np.asarray(field) for field in memory()._host_arrays().values()))
    for _ in range(30):
        batch = replay.sample(config.batch_size)
        expected, metrics = eager.update(batch), graphed.update(batch)
        assert metrics['critic_loss'] == pytest.approx(expected['critic_loss'], rel=1e-4)
    for name in NETWORKS:
        for x, y in zip(getattr(eager, name).parameters(), getattr(graphed, name).parameters()):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)
