"""Replay memory: ring buffer, vectorised insertion, sampling, and save/load."""
import json

import numpy as np
import pytest
import torch

from t3d_ros.td3 import Batch, ReplayMemory

OBS_DIM, ACT_DIM = 3, 2


def transitions(start: int, count: int) -> tuple[np.ndarray, ...]:
    """Transitions numbered start..start+count-1; the number is in every field."""
    n = np.arange(start, start + count, dtype=np.float64)
    return (np.repeat(n[:, None], OBS_DIM, 1), np.repeat(-n[:, None], ACT_DIM, 1), n,
            np.repeat(n[:, None] + 0.5, OBS_DIM, 1), n % 2)


def numbers(memory: ReplayMemory) -> set[int]:
    return set(memory.reward[:len(memory)].astype(int).tolist())


def test_add_fills_then_overwrites_the_oldest():
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=4)
    for i in range(6):
        memory.add(*(field[0] for field in transitions(i, 1)))
    assert len(memory) == 4 and memory.capacity == 4 and memory.total_added == 6
    assert memory.reward.tolist() == [4.0, 5.0, 2.0, 3.0]
    assert memory.next_obs[1].tolist() == [5.5] * OBS_DIM
    assert memory.action[0].tolist() == [-4.0] * ACT_DIM
    assert memory.terminated.tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize('chunks', [[3, 3, 3], [5, 7], [2, 11], [11], [4, 4, 1]])
def test_add_batch_equals_adding_one_by_one(chunks):
    one_by_one, batched = ReplayMemory(OBS_DIM, ACT_DIM, 5), ReplayMemory(OBS_DIM, ACT_DIM, 5)
    start = 0
    for count in chunks:
        batch = transitions(start, count)
        batched.add_batch(*batch)
        for i in range(count):
            one_by_one.add(*(field[i] for field in batch))
        start += count
    for name in ('obs', 'action', 'reward', 'next_obs', 'terminated'):
        assert np.array_equal(getattr(batched, name), getattr(one_by_one, name))
    assert (batched.cursor, len(batched), batched.total_added) == \
        (one_by_one.cursor, len(one_by_one), one_by_one.total_added)


def test_add_batch_larger_than_capacity_keeps_the_newest():
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=4)
    memory.add_batch(*transitions(0, 1))
    memory.add_batch(*transitions(1, 10))
    assert numbers(memory) == {7, 8, 9, 10}
    assert len(memory) == 4 and memory.total_added == 11
    assert memory.reward[memory.cursor - 1] == 10.0  # the newest sits just before the cursor


def test_storage_is_preallocated_float32_and_bounded():
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=100)
    arrays = (memory.obs, memory.action, memory.reward, memory.next_obs, memory.terminated)
    before = sum(a.nbytes for a in arrays)
    assert before == 100 * (2 * OBS_DIM + ACT_DIM + 2) * 4
    memory.add_batch(*transitions(0, 1000))
    assert all(a.dtype == np.float32 for a in arrays)
    assert sum(a.nbytes for a in arrays) == before


def test_add_batch_rejects_wrong_shapes():
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=4)
    obs, action, reward, next_obs, terminated = transitions(0, 2)
    with pytest.raises(ValueError, match='action has shape'):
        memory.add_batch(obs, action[:, :1], reward, next_obs, terminated)
    with pytest.raises(ValueError, match='terminated has shape'):
        memory.add_batch(obs, action, reward, next_obs, terminated[:1])
    assert len(memory) == 0 and memory.total_added == 0


def test_sample_returns_float32_tensors_of_stored_transitions():
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=8)
    memory.add_batch(*transitions(0, 5))
    batch = memory.sample(64)
    assert isinstance(batch, Batch)
    assert batch.obs.shape == batch.next_obs.shape == (64, OBS_DIM)
    assert batch.action.shape == (64, ACT_DIM)
    assert batch.reward.shape == batch.terminated.shape == (64,)
    assert all(t.dtype == torch.float32 for t in batch)
    n = batch.reward
    assert set(n.int().tolist()) <= {0, 1, 2, 3, 4}  # never an empty slot
    assert torch.equal(batch.obs[:, 0], n) and torch.equal(batch.action[:, 1], -n)
    assert torch.equal(batch.next_obs[:, 2], n + 0.5) and torch.equal(batch.terminated, n % 2)


def test_sample_is_uniform_and_seeded():
    def filled(seed):
        memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=10, seed=seed)
        memory.add_batch(*transitions(0, 10))
        return memory

    counts = np.bincount(filled(3).sample(20_000).reward.int().numpy(), minlength=10)
    assert np.all(np.abs(counts - 2000) < 200)
    assert torch.equal(filled(3).sample(32).reward, filled(3).sample(32).reward)
    assert not torch.equal(filled(3).sample(32).reward, filled(4).sample(32).reward)


def test_sample_from_empty_memory_is_an_error():
    with pytest.raises(ValueError, match='empty'):
        ReplayMemory(OBS_DIM, ACT_DIM, capacity=4).sample(2)


def test_save_and_load_continue_sampling_identically(tmp_path):
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=16, seed=5)
    memory.add_batch(*transitions(0, 20))  # wrapped: cursor is not 0
    memory.sample(7)
    path = tmp_path / 'replay.npz'
    memory.save(path)
    loaded = ReplayMemory.load(path)
    assert [p.name for p in tmp_path.iterdir()] == ['replay.npz']  # no temporary file left
    assert (loaded.cursor, len(loaded), loaded.total_added) == (4, 16, 20)
    for _ in range(3):
        expected, got = memory.sample(9), loaded.sample(9)
        assert all(torch.equal(a, b) for a, b in zip(expected, got))
    memory.add_batch(*transitions(20, 3))
    loaded.add_batch(*transitions(20, 3))
    assert np.array_equal(memory.obs, loaded.obs)
    assert torch.equal(memory.sample(9).obs, loaded.sample(9).obs)


def test_restore_of_a_partly_filled_memory_replaces_contents(tmp_path):
    saved = ReplayMemory(OBS_DIM, ACT_DIM, capacity=16, seed=1)
    saved.add_batch(*transitions(100, 3))
    saved.save(tmp_path / 'replay.npz')
    target = ReplayMemory(OBS_DIM, ACT_DIM, capacity=16, seed=2)
    target.add_batch(*transitions(0, 10))
    target.restore(tmp_path / 'replay.npz')
    assert numbers(target) == {100, 101, 102} and target.cursor == 3
    assert not target.reward[3:].any()
    assert torch.equal(target.sample(8).reward, saved.sample(8).reward)


def test_restore_refuses_another_layout_and_changes_nothing(tmp_path):
    ReplayMemory(OBS_DIM, ACT_DIM, capacity=8).save(tmp_path / 'small.npz')
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=16)
    memory.add_batch(*transitions(0, 2))
    with pytest.raises(ValueError, match='capacity'):
        memory.restore(tmp_path / 'small.npz')
    assert numbers(memory) == {0, 1}


def test_state_dict_is_json_and_restores_the_sampling_generator():
    memory = ReplayMemory(OBS_DIM, ACT_DIM, capacity=8, seed=9)
    memory.add_batch(*transitions(0, 8))
    state = json.loads(json.dumps(memory.state_dict()))
    expected = memory.sample(5).reward
    copy = ReplayMemory(OBS_DIM, ACT_DIM, capacity=8, seed=0)
    copy.add_batch(*transitions(0, 8))
    copy.load_state_dict(state)
    assert torch.equal(copy.sample(5).reward, expected)
    assert copy.total_added == 8
