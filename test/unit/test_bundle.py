"""Policy bundle: round trip, rejection of bad bytes, task matching, inference policy."""
import json
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import safetensors.torch
import torch

from t3d_ros.td3 import TD3, BundleError, BundleMismatch, PolicyBundle, TD3Config

TASK = SimpleNamespace(name='reacher', joint_names=('shoulder', 'elbow'),
                       obs_layout=(('joint_pos', 2), ('joint_vel', 2), ('goal', 3)),
                       action_low=np.array([-2.0, -0.5]), action_high=np.array([1.0, 0.5]),
                       interface='effort')
OBS_DIM = 7


@pytest.fixture(scope='module')
def agent() -> TD3:
    return TD3(OBS_DIM, TASK.action_low, TASK.action_high, TD3Config(hidden_sizes=(8, 6)))


@pytest.fixture
def bundle(agent) -> PolicyBundle:
    return PolicyBundle.from_agent(agent, TASK, policy_version=4)


def split(data: bytes) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors of a safetensors file, without any checks."""
    header_size = int.from_bytes(data[:8], 'little')
    return json.loads(data[8:8 + header_size])['__metadata__'], safetensors.torch.load(data)


def rewritten(bundle: PolicyBundle, metadata=None, tensors=None, drop=()) -> bytes:
    """Return the bundle's file with metadata/tensors changed behind its content hash's back."""
    stored_metadata, stored_tensors = split(bundle.to_bytes())
    stored_metadata.update(metadata or {})
    stored_tensors.update(tensors or {})
    for key in drop:
        stored_metadata.pop(key, None)
    return safetensors.torch.save(stored_tensors, metadata=stored_metadata)


def test_bytes_round_trip_keeps_everything(bundle):
    bundle.obs_mean, bundle.obs_std = np.arange(OBS_DIM, dtype=np.float32), np.full(OBS_DIM, 2.0)
    bundle = PolicyBundle(**vars(bundle))  # validate the normaliser too
    loaded = PolicyBundle.from_bytes(bundle.to_bytes())
    assert loaded == bundle and loaded.content_hash == bundle.content_hash
    assert loaded.task == 'reacher' and loaded.joint_names == ('shoulder', 'elbow')
    assert loaded.obs_layout == TASK.obs_layout and loaded.hidden_sizes == (8, 6)
    assert np.array_equal(loaded.action_low, TASK.action_low)
    assert np.array_equal(loaded.action_high, TASK.action_high)
    assert (loaded.policy_version, loaded.update_step, loaded.interface) == (4, 0, 'effort')
    assert np.array_equal(loaded.obs_mean, bundle.obs_mean)
    assert np.array_equal(loaded.obs_std, bundle.obs_std)
    assert loaded.actor_state.keys() == bundle.actor_state.keys()
    assert all(np.array_equal(loaded.actor_state[k], v) for k, v in bundle.actor_state.items())


def test_file_round_trip_is_atomic(bundle, tmp_path):
    path = tmp_path / 'policy.safetensors'
    bundle.save(path)
    bundle.save(path)  # overwrite in place
    assert [p.name for p in tmp_path.iterdir()] == ['policy.safetensors']
    assert PolicyBundle.load(path) == bundle


def test_from_agent_exports_the_actor_or_its_target():
    agent = TD3(OBS_DIM, TASK.action_low, TASK.action_high, TD3Config(hidden_sizes=(8, 6)))
    with torch.no_grad():
        agent.actor_target.net[0].bias += 1.0
    online = PolicyBundle.from_agent(agent, TASK, policy_version=1)
    target = PolicyBundle.from_agent(agent, TASK, policy_version=1, use_target=True)
    assert np.array_equal(online.actor_state['net.0.bias'], agent.actor.net[0].bias.detach())
    assert np.array_equal(target.actor_state['net.0.bias'],
                          agent.actor_target.net[0].bias.detach())
    assert online.content_hash != target.content_hash


def test_policy_matches_agent_and_stays_within_limits(agent, bundle):
    policy = PolicyBundle.from_bytes(bundle.to_bytes()).make_policy()
    obs = np.random.default_rng(0).normal(scale=100.0, size=(50, OBS_DIM))
    action = policy(obs)
    np.testing.assert_allclose(action, agent.act(obs), rtol=1e-6, atol=1e-7)
    assert action.dtype == np.float64
    assert np.all((TASK.action_low <= action) & (action <= TASK.action_high))
    assert np.all(np.abs(policy.unit_action(obs)) <= 1.0)


def test_every_corrupted_byte_is_rejected(bundle):
    data = bundle.to_bytes()
    for position in range(len(data)):
        corrupted = bytearray(data)
        corrupted[position] ^= 0xFF
        with pytest.raises(BundleError):
            PolicyBundle.from_bytes(bytes(corrupted))


def test_corrupted_weight_fails_the_content_hash(bundle):
    corrupted = bytearray(bundle.to_bytes())
    corrupted[-3] ^= 0x01  # a low mantissa bit of the last weight
    with pytest.raises(BundleError, match='content hash'):
        PolicyBundle.from_bytes(bytes(corrupted))


@pytest.mark.parametrize('length', [0, 1, 7, 8, 9, 100, -1])
def test_truncated_bytes_are_rejected(bundle, length):
    data = bundle.to_bytes()
    with pytest.raises(BundleError, match='not a valid safetensors'):
        PolicyBundle.from_bytes(data[:length])


@pytest.mark.parametrize('seed', range(5))
def test_random_garbage_is_rejected(seed):
    rng = np.random.default_rng(seed)
    with pytest.raises(BundleError, match='not a valid safetensors'):
        PolicyBundle.from_bytes(rng.bytes(int(rng.integers(1, 5000))))


class _Exploit:
    def __reduce__(self):
        return (exec, ("raise SystemExit('unpickled!')",))


def test_a_pickle_is_rejected_without_being_unpickled():
    with pytest.raises(BundleError, match='not a valid safetensors'):
        PolicyBundle.from_bytes(pickle.dumps(_Exploit()))


def test_non_bytes_are_rejected():
    with pytest.raises(BundleError, match='must be bytes'):
        PolicyBundle.from_bytes('policy')


def test_oversized_bytes_and_files_are_rejected(bundle, tmp_path):
    data = bundle.to_bytes()
    with pytest.raises(BundleError, match='more than the limit'):
        PolicyBundle.from_bytes(data, max_bytes=len(data) - 1)
    path = tmp_path / 'big.safetensors'
    path.write_bytes(data)
    with pytest.raises(BundleError, match='more than the limit'):
        PolicyBundle.load(path, max_bytes=len(data) - 1)
    assert PolicyBundle.load(path, max_bytes=len(data)) == bundle


def test_tampered_metadata_fails_the_content_hash(bundle):
    for change in ({'task': 'pendulum'}, {'policy_version': '5'},
                   {'action_high': '[1.0, 0.6]'}, {'joint_names': '["elbow", "shoulder"]'}):
        with pytest.raises(BundleError, match='content hash'):
            PolicyBundle.from_bytes(rewritten(bundle, metadata=change))


def test_non_finite_weights_are_rejected(bundle):
    weights = bundle.actor_state['net.2.weight'].copy()
    for bad in (float('nan'), float('inf')):
        weights[1, 1] = bad
        with pytest.raises(BundleError, match="'net.2.weight' has non-finite"):
            PolicyBundle.from_bytes(rewritten(
                bundle, tensors={'actor.net.2.weight': torch.from_numpy(weights)}))
        with pytest.raises(BundleError, match='non-finite'):
            PolicyBundle(**{**vars(bundle), 'actor_state': {**bundle.actor_state,
                                                            'net.2.weight': weights}})


@pytest.mark.parametrize('change, message', [
    ({'format': 'something.else'}, 'not a policy bundle of format'),
    ({'format_version': '4'}, 'not a policy bundle of format'),
    ({'format_version': '1'}, 'unexpected'),  # a v2 bundle's keys under v1's name
    ({'hidden_sizes': '[8, 7]'}, "'net.2.weight' is float32 .* expected"),
    ({'hidden_sizes': '[8]'}, '6 actor tensors for 1 hidden layers'),
    ({'hidden_sizes': '[8, 6, 4]'}, '6 actor tensors for 3 hidden layers'),
    ({'hidden_sizes': '[0]'}, 'hidden size must be an integer >= 1'),
    ({'obs_layout': '[["joint_pos", 2], ["joint_vel", 2]]'}, "'net.0.weight' is .* expected"),
    ({'obs_layout': '[["joint_pos", 2, 1]]'}, 'is not \\(name, size\\)'),
    ({'joint_names': '["shoulder"]'}, '2 action limits for 1 joints'),
    ({'joint_names': '["a", "a"]'}, 'distinct'),
    ({'joint_names': '{"a": 1}'}, "'joint_names' is not a list"),
    ({'joint_names': '["a", '}, "'joint_names' is not JSON"),
    ({'action_low': '[1.0, -0.5]'}, 'high > low'),
    ({'action_low': '[NaN, -0.5]'}, 'finite'),
    ({'action_low': '["x", -0.5]'}, 'could not convert'),
    ({'policy_version': '-1'}, "'policy_version' is not a count"),
    ({'update_step': '1e3'}, "'update_step' is not a count"),
    ({'interface': 'torque'}, 'torque'),
    ({'task': ''}, 'task must be a non-empty string'),
    ({'surprise': 'x'}, "unexpected \\['surprise'\\]"),
])
def test_bad_metadata_is_rejected_with_a_clear_message(bundle, change, message):
    with pytest.raises(BundleError, match=message):
        PolicyBundle.from_bytes(rewritten(bundle, metadata=change))


@pytest.mark.parametrize('key', ['task', 'content_hash', 'action_low', 'hidden_sizes'])
def test_missing_metadata_is_rejected(bundle, key):
    with pytest.raises(BundleError, match=f"missing \\['{key}'\\]"):
        PolicyBundle.from_bytes(rewritten(bundle, drop=[key]))


def test_unexpected_or_missing_tensors_are_rejected(bundle):
    with pytest.raises(BundleError, match='unexpected tensors'):
        PolicyBundle.from_bytes(rewritten(bundle, tensors={'critic.w': torch.zeros(2)}))
    with pytest.raises(BundleError, match='both obs_mean and obs_std'):
        PolicyBundle.from_bytes(rewritten(bundle, tensors={'obs_mean': torch.zeros(OBS_DIM)}))
    with pytest.raises(BundleError, match='obs_std > 0'):
        PolicyBundle.from_bytes(rewritten(bundle, tensors={'obs_mean': torch.zeros(OBS_DIM),
                                                           'obs_std': torch.zeros(OBS_DIM)}))


def test_check_matches_accepts_its_task(bundle):
    bundle.check_matches(TASK)
    bundle.check_matches(SimpleNamespace(**{**vars(TASK), 'action_low': [-2, -0.5]}))


@pytest.mark.parametrize('change, message', [
    ({'name': 'pendulum'}, "task is 'reacher', expected 'pendulum'"),
    ({'joint_names': ('elbow', 'shoulder')}, 'joint names/order'),
    ({'joint_names': ('shoulder', 'elbow', 'wrist')}, 'joint names/order'),
    ({'obs_layout': (('joint_vel', 2), ('joint_pos', 2), ('goal', 3))}, 'observation layout'),
    ({'action_low': np.array([-2.0, -0.4])}, r'action_low is \[-2.0, -0.5\], expected'),
    ({'action_high': np.array([1.0, 0.5, 1.0])}, 'action_high'),
    ({'interface': 'velocity'}, "interface is 'effort', expected 'velocity'"),
])
def test_check_matches_names_what_differs(bundle, change, message):
    other = SimpleNamespace(**{**vars(TASK), **change})
    with pytest.raises(BundleMismatch, match=message):
        bundle.check_matches(other)


def test_mismatch_lists_every_difference_and_is_a_bundle_error(bundle):
    other = SimpleNamespace(**{**vars(TASK), 'name': 'arm', 'action_high': np.ones(2)})
    with pytest.raises(BundleError) as error:
        bundle.check_matches(other)
    assert isinstance(error.value, BundleMismatch) and isinstance(error.value, ValueError)
    assert 'task is' in str(error.value) and 'action_high' in str(error.value)


def test_from_agent_refuses_a_task_with_other_limits(agent):
    other = SimpleNamespace(**{**vars(TASK), 'action_high': np.array([2.0, 0.5])})
    with pytest.raises(BundleMismatch, match='action_high'):
        PolicyBundle.from_agent(agent, other, policy_version=0)


@pytest.mark.parametrize('task_name', ['pendulum', 'reacher'])
def test_bundles_of_the_registered_tasks_round_trip_and_match(task_name):
    from t3d_ros.tasks import make_task
    task = make_task(task_name)
    agent = TD3(task.obs_dim, task.action_low, task.action_high, TD3Config(hidden_sizes=(8,)))
    loaded = PolicyBundle.from_bytes(PolicyBundle.from_agent(agent, task, 1).to_bytes())
    loaded.check_matches(task)
    obs = np.zeros(task.obs_dim, np.float32)
    np.testing.assert_allclose(loaded.make_policy()(obs), agent.act(obs), rtol=1e-6)


def test_bundles_written_by_torch_keep_their_hash_and_load(bundle):
    """
    Bundles are read and written with numpy now.

    Files that the torch code wrote (format v1, hash over torch's dtype names) still load, and hash
    alike.
    """
    import hashlib

    metadata, tensors = split(bundle.to_bytes())
    stored_hash = metadata.pop('content_hash')
    digest = hashlib.sha256(json.dumps(metadata, sort_keys=True).encode())
    for name in sorted(tensors):  # the torch code's digest
        digest.update(json.dumps([name, str(tensors[name].dtype),
                                  list(tensors[name].shape)]).encode())
        digest.update(tensors[name].contiguous().numpy().tobytes())
    assert digest.hexdigest() == stored_hash == bundle.content_hash
    torch_written = safetensors.torch.save(tensors, metadata={**metadata,
                                                              'content_hash': stored_hash})
    assert PolicyBundle.from_bytes(torch_written) == bundle
