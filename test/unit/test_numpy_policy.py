"""The numpy policy equals the torch policy; the actor and sim nodes import no torch."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from t3d_ros.acting.numpy_policy import NumpyPolicy, actor_tensor_shapes
from t3d_ros.tasks import make_task, task_names
from t3d_ros.td3 import TD3, Actor, PolicyBundle, TD3Config

ATOL = 3e-5
"""float32 sums in another order: pre-activations of a few hundred differ by ~1e-5."""


def trained_looking_bundle(task, hidden_sizes, seed=0, normaliser=False):
    """Return a bundle with weights scaled up, so the tanh outputs spread over (-1, 1)."""
    torch.manual_seed(seed)
    agent = TD3(task.obs_dim, task.action_low, task.action_high,
                TD3Config(hidden_sizes=hidden_sizes, seed=seed))
    with torch.no_grad():
        for parameter in agent.actor.parameters():
            parameter.mul_(3.0)
    bundle = PolicyBundle.from_agent(agent, task, policy_version=1)
    if normaliser:
        rng = np.random.default_rng(seed)
        bundle.obs_mean = rng.normal(size=task.obs_dim)
        bundle.obs_std = rng.uniform(0.5, 2.0, size=task.obs_dim)
        bundle = PolicyBundle(**vars(bundle))
    return bundle


@pytest.mark.parametrize('task_name', task_names())
@pytest.mark.parametrize('hidden_sizes,normaliser', [((256, 256), False), ((64, 64), True),
                                                     ((32,), False)])
def test_numpy_policy_equals_the_torch_policy_on_random_observations(task_name, hidden_sizes,
                                                                     normaliser):
    task = make_task(task_name)
    bundle = PolicyBundle.from_bytes(
        trained_looking_bundle(task, hidden_sizes, normaliser=normaliser).to_bytes())
    torch_policy, numpy_policy = bundle.make_policy(), NumpyPolicy.from_bundle(bundle)
    obs = np.random.default_rng(1).normal(scale=3.0, size=(500, task.obs_dim))
    expected = torch_policy.unit_action(obs)
    assert expected.std() > 0.1  # not all saturated or all zero
    np.testing.assert_allclose(numpy_policy.unit_action(obs), expected, rtol=0, atol=ATOL)
    for row in obs[:50]:  # one observation at a time, as the actor runs it
        single = numpy_policy.unit_action(row)
        assert single.shape == (task.num_joints,) and single.dtype == np.float64
        np.testing.assert_allclose(single, torch_policy.unit_action(row), rtol=0, atol=ATOL)
        np.testing.assert_allclose(numpy_policy(row), torch_policy(row), rtol=0,
                                   atol=ATOL * np.max(bundle.action_high - bundle.action_low))


@pytest.mark.parametrize('hidden_sizes', [(8,), (8, 6), (5, 4, 3)])
def test_tensor_names_and_shapes_are_the_torch_actors(hidden_sizes):
    expected = {name: tuple(tensor.shape)
                for name, tensor in Actor(7, 2, hidden_sizes).state_dict().items()}
    assert actor_tensor_shapes(7, 2, hidden_sizes) == expected


def test_bad_observations_and_weights_are_refused():
    task = make_task('pendulum')
    bundle = trained_looking_bundle(task, (8,))
    policy = NumpyPolicy.from_bundle(bundle)
    for bad in (np.zeros(2), np.zeros((2, 2, 3)), np.array([0.0, np.nan, 1.0])):
        with pytest.raises(ValueError):
            policy.unit_action(bad)
    with pytest.raises(ValueError, match='do not make an actor'):
        NumpyPolicy(bundle.actor_state, (9,), policy.scaler)


def test_actor_and_sim_nodes_and_bundle_loading_import_no_torch(tmp_path):
    """
    The actor and sim processes start without torch (issue 9.3).

    A bundle is loaded, checked and run with numpy only.
    """
    task = make_task('reacher')
    bundle = trained_looking_bundle(task, (16, 16))
    path = tmp_path / 'policy.safetensors'
    bundle.save(path)
    obs = np.linspace(-1, 1, task.obs_dim)
    script = f'''
import sys
import numpy as np
import t3d_ros.nodes.actor_node, t3d_ros.nodes.sim_node
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.tasks import make_task
from t3d_ros.bundle.policy_bundle import PolicyBundle
bundle = PolicyBundle.load({str(path)!r})
bundle.check_matches(make_task('reacher'))
print(repr(NumpyPolicy.from_bundle(bundle).unit_action(np.array({obs.tolist()})).tolist()))
print(sorted(name for name in sys.modules if name == 'torch' or name.startswith('torch.')))
'''
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    action, torch_modules = result.stdout.strip().splitlines()[-2:]
    assert torch_modules == '[]'
    np.testing.assert_allclose(eval(action), bundle.make_policy().unit_action(obs), atol=ATOL)
