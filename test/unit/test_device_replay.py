"""
DeviceReplayMemory (the GPU learner's replay memory), run here on the CPU.

It stores what the host memory stores, samples stored transitions on its device with its own
generator, and saves, restores and copies like the host memory. No GPU on the test machine: the
CUDA case differs only in the device these tensors live on.
"""
import json

import numpy as np
import pytest
import torch

from t3d_ros.td3.replay import DeviceReplayMemory, ReplayMemory, replay_memory

OBS_DIM, ACT_DIM = 3, 2
FIELDS = ('obs', 'action', 'reward', 'next_obs', 'terminated')


def transitions(start: int, count: int) -> tuple[np.ndarray, ...]:
    n = np.arange(start, start + count, dtype=np.float64)
    return (np.repeat(n[:, None], OBS_DIM, 1), np.repeat(-n[:, None], ACT_DIM, 1), n,
            np.repeat(n[:, None] + 0.5, OBS_DIM, 1), n % 2)


@pytest.mark.parametrize('chunks', [[3, 3, 3], [2, 11], [11], [4, 4, 1]])
def test_stores_what_the_host_memory_stores(chunks):
    host, device = ReplayMemory(OBS_DIM, ACT_DIM, 5), DeviceReplayMemory(OBS_DIM, ACT_DIM, 5)
    start = 0
    for count in chunks:
        host.add_batch(*transitions(start, count))
        device.add_batch(*transitions(start, count))
        start += count
    for name in FIELDS:
        assert np.array_equal(getattr(device, name).numpy(), getattr(host, name)), name
    assert (device.cursor, len(device), device.total_added) == \
        (host.cursor, len(host), host.total_added)
    assert device.storage.shape == (5, 2 * OBS_DIM + ACT_DIM + 2)
    with pytest.raises(ValueError, match='action has shape'):
        device.add_batch(*transitions(0, 2)[:1], np.zeros((2, 1)), *transitions(0, 2)[2:])


def test_samples_stored_transitions_on_its_device_seeded():
    memory = DeviceReplayMemory(OBS_DIM, ACT_DIM, 64, seed=4)
    with pytest.raises(ValueError, match='empty'):
        memory.sample(2)
    memory.add_batch(*transitions(0, 40))
    batch = memory.sample(500)
    n = batch.reward
    assert all(t.dtype == torch.float32 and t.device == memory.device for t in batch)
    assert batch.obs.shape == (500, OBS_DIM) and batch.terminated.shape == (500,)
    assert torch.equal(batch.obs, n[:, None].expand(-1, OBS_DIM))
    assert torch.equal(batch.action, -n[:, None].expand(-1, ACT_DIM))
    assert torch.equal(batch.next_obs, n[:, None].expand(-1, OBS_DIM) + 0.5)
    assert torch.equal(batch.terminated, n % 2)
    assert set(n.long().tolist()) == set(range(40))  # uniform over the stored rows only
    again = DeviceReplayMemory(OBS_DIM, ACT_DIM, 64, seed=4)
    again.add_batch(*transitions(0, 40))
    assert torch.equal(again.sample(500).reward, n)
    with pytest.raises(ValueError, match='samples on cpu'):
        memory.sample(2, device='meta')


def test_save_restore_and_state_dict_continue_sampling_identically(tmp_path):
    memory = DeviceReplayMemory(OBS_DIM, ACT_DIM, 8, seed=2)
    memory.add_batch(*transitions(0, 11))
    memory.save(tmp_path / 'replay.npz')
    state = json.loads(json.dumps(memory.state_dict()))
    expected = memory.sample(6).reward
    loaded = DeviceReplayMemory(OBS_DIM, ACT_DIM, 8)
    loaded.restore(tmp_path / 'replay.npz')
    assert torch.equal(loaded.sample(6).reward, expected)
    assert (loaded.cursor, len(loaded), loaded.total_added) == (3, 8, 11)
    fresh = DeviceReplayMemory(OBS_DIM, ACT_DIM, 8)
    fresh.add_batch(*transitions(0, 11))
    fresh.load_state_dict(state)
    assert torch.equal(fresh.sample(6).reward, expected)
    host = ReplayMemory.load(tmp_path / 'replay.npz')  # the same file format
    assert np.array_equal(host.reward, memory.reward.numpy())
    host.sample(3)  # its generator was reseeded from the torch state


def test_copy_is_independent_and_optionally_empty():
    memory = DeviceReplayMemory(OBS_DIM, ACT_DIM, 8, seed=1)
    memory.add_batch(*transitions(0, 5))
    full, bare = memory.copy(), memory.copy(with_transitions=False)
    memory.add_batch(*transitions(100, 8))
    assert full.reward[:5].tolist() == [0, 1, 2, 3, 4] and len(full) == 5
    assert isinstance(full, DeviceReplayMemory) and full.device == memory.device
    assert not bare.storage.any() and len(bare) == 5
    assert full.state_dict()['rng_state'] == bare.state_dict()['rng_state']
    host = ReplayMemory(OBS_DIM, ACT_DIM, 8)
    host.add_batch(*transitions(0, 5))
    assert host.copy().reward.tolist() == host.reward.tolist()
    assert not host.copy(with_transitions=False).reward.any()


def test_a_learner_device_picks_its_memory():
    assert type(replay_memory(OBS_DIM, ACT_DIM, 4, 0, 'cpu')) is ReplayMemory
    assert type(replay_memory(OBS_DIM, ACT_DIM, 4, 0, torch.device('cpu'))) is ReplayMemory
    if torch.cuda.is_available():
        memory = replay_memory(OBS_DIM, ACT_DIM, 4, 0, 'cuda')
        assert isinstance(memory, DeviceReplayMemory) and memory.storage.is_cuda
