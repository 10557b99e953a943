"""
The fast backend against the plain one: the same numbers on the same batches.

The plain backend is the fifteen steps with autograd, as the TD3 authors wrote them. The fast
one has written-out gradients (only those used), the twin critics as one stacked MLP, fused
Adam with one step counter tensor, foreach Polyak and lazy metrics. Both from the same seed
start alike, stay alike for 100 updates, and continue each other's checkpoints.
"""
import copy
import functools

import numpy as np
import pytest
import torch

from t3d_ros.tasks import make_task
from t3d_ros.td3 import (TD3, PolicyBundle, TD3Config, latest_checkpoint, load_checkpoint,
                         save_checkpoint)
from t3d_ros.td3.fast import FastUpdate
from t3d_ros.td3.fused_adam import FusedAdamStep
from t3d_ros.td3.plain import PlainUpdate
from t3d_ros.td3.replay import ReplayMemory, replay_memory
from t3d_ros.td3.td3 import NETWORKS

OBS_DIM, ACT_DIM = 5, 2
TOLERANCE = 1e-4
"""
Largest relative difference, ||fast - plain|| / ||plain||, of any network tensor.

The same arithmetic in another order (fused kernels, stacked products) differs in float
rounding, and Adam amplifies what little rounding flips a ReLU: 5e-7 after 100 updates at
32-32 here, 2e-5 at 64-64 with one weight of 4,096 drifting. A tau 1 % off gives 5e-4, a
noise clip 10 % off 2e-4.
"""


def filled_memory(capacity=2_000, obs_dim=OBS_DIM, act_dim=ACT_DIM,
                  device='cpu') -> ReplayMemory:
    rng = np.random.default_rng(0)
    memory = replay_memory(obs_dim, act_dim, capacity, seed=0, device=device)
    memory.add_batch(rng.normal(size=(capacity, obs_dim)), rng.uniform(-1, 1, (capacity, act_dim)),
                     rng.normal(size=capacity), rng.normal(size=(capacity, obs_dim)),
                     rng.random(capacity) < 0.1)
    return memory


def agent(config: TD3Config, backend: str, seed: int | None = None, device='cpu') -> TD3:
    config = config.replace(backend=backend, seed=config.seed if seed is None else seed)
    return TD3(OBS_DIM, -np.ones(ACT_DIM), np.ones(ACT_DIM), config, device=device)


def assert_same_networks(fast: TD3, plain: TD3, message: str = '') -> None:
    for name in NETWORKS:
        for index, (a, b) in enumerate(zip(getattr(fast, name).parameters(),
                                           getattr(plain, name).parameters(), strict=True)):
            difference = ((a - b).norm() / b.norm()).item()
            assert difference < TOLERANCE, f'{name} tensor {index} differs {message}'


def update_both(fast: TD3, plain: TD3, memory: ReplayMemory, updates: int) -> None:
    """Update both on the same batches; their networks and metrics stay the same."""
    for _ in range(updates):
        batch = memory.sample(fast.config.batch_size)
        fast_metrics, plain_metrics = fast.update(batch), plain.update(batch)
        iteration = f'at update {fast.total_updates}'
        assert list(fast_metrics) == list(plain_metrics), iteration
        assert all(np.isfinite(value) for value in fast_metrics.values())
        assert dict(fast_metrics) == pytest.approx(dict(plain_metrics), rel=1e-4, abs=1e-6)
        assert_same_networks(fast, plain, iteration)


@pytest.mark.parametrize('hidden_sizes, policy_delay, batch_size', [
    ((32, 32), 2, 64), ((16,), 3, 64), ((8, 6, 8), 2, 64), ((64, 64), 1, 256), ((24, 24), 5, 7)])
def test_fast_equals_plain_for_100_updates_from_the_same_seed(hidden_sizes, policy_delay,
                                                              batch_size):
    config = TD3Config(hidden_sizes=hidden_sizes, batch_size=batch_size,
                       policy_delay=policy_delay, tau=0.05, seed=3)
    fast, plain = agent(config, 'fast'), agent(config, 'plain')
    assert isinstance(fast.backend, FastUpdate) and isinstance(plain.backend, PlainUpdate)
    for name in NETWORKS:  # the same networks from the same seed, exactly
        assert all(torch.equal(a, b) for a, b in zip(getattr(fast, name).parameters(),
                                                     getattr(plain, name).parameters()))
    start = {name: [p.clone() for p in getattr(fast, name).parameters()] for name in NETWORKS}
    update_both(fast, plain, filled_memory(), 100)
    moved = {name: max((p - q).abs().max().item()
                       for p, q in zip(getattr(fast, name).parameters(), start[name]))
             for name in NETWORKS}
    assert all(value > 1e-4 for value in moved.values()), moved  # every network learnt
    assert fast.total_updates == plain.total_updates == 100
    assert torch.equal(fast.noise_generator.get_state(), plain.noise_generator.get_state())


@pytest.mark.parametrize('device', ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device'))])
@pytest.mark.parametrize('first, second', [('fast', 'plain'), ('plain', 'fast')])
def test_a_checkpoint_of_one_backend_resumes_in_the_other(tmp_path, first, second, device):
    config = TD3Config(hidden_sizes=(16, 16), batch_size=32, seed=3)
    memory = filled_memory(device=device)
    agents = {backend: agent(config, backend, device=device) for backend in ('fast', 'plain')}
    update_both(agents['fast'], agents['plain'], memory, 5)
    save_checkpoint(tmp_path, agents[first], {'env_steps': 5})  # its tensors on the CPU
    resumed = agent(config, second, seed=99, device=device)
    assert load_checkpoint(latest_checkpoint(tmp_path), resumed) == {'env_steps': 5}
    assert resumed.total_updates == 5
    # Its own kernel choice, whatever the writer's.
    expected_fused = True if second == 'fast' else None
    assert all(group['fused'] is expected_fused
               for optimizer in (resumed.actor_optimizer, resumed.critic_optimizer)
               for group in optimizer.param_groups)
    # The writer's moments and counts, so it continues as the writer does.
    agents[second] = resumed
    update_both(agents['fast'], agents['plain'], memory, 10)


def test_the_plain_backend_continues_from_an_updated_fast_agent_in_memory():
    """Networks and Adam state stay ordinary tensors (the fast update runs in inference mode)."""
    config = TD3Config(hidden_sizes=(16, 16), batch_size=32, seed=3)
    fast, memory = agent(config, 'fast'), filled_memory()
    for _ in range(5):
        fast.update(memory.sample(config.batch_size))
    state = fast.critic_optimizer.state[fast.critic_1.net[0].weight]
    assert not any(tensor.is_inference() for tensor in state.values())
    plain = agent(config, 'plain', seed=99)
    plain.load_state_dict(fast.state_dict())
    update_both(fast, plain, memory, 10)


def test_policy_bundles_of_either_backend_are_the_same():
    task = make_task('pendulum')
    config = TD3Config(hidden_sizes=(16, 16), batch_size=32, seed=3)
    fast, plain = (TD3(task.obs_dim, task.action_low, task.action_high,
                       config.replace(backend=backend)) for backend in ('fast', 'plain'))
    memory = filled_memory(500, task.obs_dim, task.num_joints)
    for _ in range(4):
        fast.update(memory.sample(config.batch_size))
    plain.load_state_dict(fast.state_dict())
    fast_bundle, plain_bundle = (PolicyBundle.from_agent(each, task, policy_version=1)
                                 for each in (fast, plain))
    assert fast_bundle.update_step == plain_bundle.update_step == 4
    assert PolicyBundle.from_bytes(plain_bundle.to_bytes()) == fast_bundle  # the content hash


def test_the_backend_is_a_checked_config_value():
    assert TD3Config().backend == 'fast'
    assert TD3Config.from_dict({'backend': 'plain'}).backend == 'plain'
    with pytest.raises(ValueError, match=r"'backend' must be one of \['fast', 'plain'\]"):
        TD3Config.from_dict({'backend': 'autograd'})


def test_fused_adam_step_is_optimizer_step_on_single_and_stacked_parameters():
    torch.manual_seed(0)
    stack = torch.randn(2, 4, 3)  # two networks' weights, the parameters slices of it
    single = torch.nn.Parameter(torch.randn(3))
    params = [torch.nn.Parameter(stack[1]), single, torch.nn.Parameter(stack[0])]
    twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
    fused = torch.optim.Adam(params, lr=1e-2, fused=True)
    stepped = torch.optim.Adam(twins, lr=1e-2, fused=True)
    step = FusedAdamStep(fused, [single, stack])
    for index in range(8):
        if index == 5:  # state tensors of another optimiser's (as a resume loads them)
            fused.load_state_dict(copy.deepcopy(stepped.state_dict()))
            step.state_loaded()
        grads = [torch.randn(3), torch.randn(2, 4, 3)]
        step(grads)
        for twin, grad in zip(twins, (grads[1][1], grads[0], grads[1][0])):
            twin.grad = grad.clone()
        stepped.step()
    # The same arithmetic; a stacked tensor puts elements in other vector lanes of the kernel,
    # so the last bit may differ.
    same = functools.partial(torch.testing.assert_close, rtol=1e-6, atol=1e-12)
    for a, b in zip(params, twins):
        same(a, b)
    for key in ('step', 'exp_avg', 'exp_avg_sq'):
        for a, b in zip(params, twins):
            same(fused.state[a][key], stepped.state[b][key])
    # The stacked parameters' moments are slices of one stacked tensor.
    assert [fused.state[p]['exp_avg'].data_ptr() for p in (params[2], params[0])] == [
        fused.state[params[2]]['exp_avg'].data_ptr() + 4 * 12 * i for i in range(2)]
    stepped.state[twins[1]]['step'] += 1  # a state whose parameters took different steps
    with pytest.raises(ValueError, match='one step count'):
        fused.load_state_dict(copy.deepcopy(stepped.state_dict()))
        step.state_loaded()
    with pytest.raises(ValueError, match='plain Adam'):
        FusedAdamStep(torch.optim.Adam(params, weight_decay=0.1), [single, stack])
    with pytest.raises(ValueError, match='exactly'):
        FusedAdamStep(torch.optim.Adam(params, fused=True), [stack])


@pytest.mark.parametrize('backend, update', [('plain', PlainUpdate), ('fast', FastUpdate)])
def test_the_learner_runs_the_backend_its_parameters_name(backend, update):
    from t3d_ros.acting.transitions import TransitionBatch
    from t3d_ros.training.learner import Learner, learner_settings

    task = make_task('pendulum')
    config, options = learner_settings({'backend': backend, 'hidden_sizes': [8, 8],
                                        'batch_size': 4, 'learning_starts': 8})
    learner = Learner(task, config, options)
    assert isinstance(learner.agent.backend, update)
    rng = np.random.default_rng(0)
    learner.insert(TransitionBatch('robot_0', 0, rng.normal(size=(10, task.obs_dim)),
                                   np.zeros((10, 1)), rng.normal(size=10),
                                   rng.normal(size=(10, task.obs_dim)), np.zeros(10, bool),
                                   np.zeros(10, bool)))
    assert learner.run_updates() == learner.updates == 2
