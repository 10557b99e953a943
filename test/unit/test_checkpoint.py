"""Training checkpoints: exact resume, atomic directories, pruning, corrupt files."""
import json

import numpy as np
import pytest
import torch

from t3d_ros.td3 import (TD3, CheckpointError, ReplayMemory, TD3Config, latest_checkpoint,
                         load_checkpoint, save_checkpoint)
from t3d_ros.td3.checkpoint import recover_checkpoints
from t3d_ros.td3.td3 import NETWORKS

OBS_DIM, LOW, HIGH = 4, np.array([-1.0, 0.0]), np.array([2.0, 0.5])
CONFIG = TD3Config(hidden_sizes=(16, 16), batch_size=8, replay_capacity=64, policy_delay=2)


def fresh(seed=0) -> tuple[TD3, ReplayMemory]:
    agent = TD3(OBS_DIM, LOW, HIGH, CONFIG.replace(seed=seed))
    return agent, ReplayMemory(OBS_DIM, 2, CONFIG.replay_capacity, seed=seed)


def train(agent: TD3, memory: ReplayMemory, steps: range) -> None:
    """One new transition (a function of the step number) and one update per step."""
    for step in steps:
        rng = np.random.default_rng(step)
        memory.add(rng.normal(size=OBS_DIM), rng.uniform(-1, 1, 2), rng.normal(),
                   rng.normal(size=OBS_DIM), rng.random() < 0.1)
        if len(memory) >= CONFIG.batch_size:
            agent.update(memory.sample(CONFIG.batch_size))


def assert_identical(agent_a: TD3, agent_b: TD3) -> None:
    state_a, state_b = agent_a.state_dict(), agent_b.state_dict()
    for network in NETWORKS:
        for name, tensor in state_a[network].items():
            assert torch.equal(tensor, state_b[network][name]), f'{network}.{name}'
    for optimizer in ('actor_optimizer', 'critic_optimizer'):
        assert state_a[optimizer]['param_groups'] == state_b[optimizer]['param_groups']
        moments_a, moments_b = state_a[optimizer]['state'], state_b[optimizer]['state']
        assert moments_a.keys() == moments_b.keys()
        for index, fields in moments_a.items():
            assert fields.keys() == moments_b[index].keys()
            for field, tensor in fields.items():
                assert torch.equal(tensor, moments_b[index][field]), f'{optimizer}.{index}.{field}'
    assert state_a['total_updates'] == state_b['total_updates']
    assert torch.equal(state_a['noise_generator'], state_b['noise_generator'])


def assert_same_memory(memory_a: ReplayMemory, memory_b: ReplayMemory) -> None:
    for name in ('obs', 'action', 'reward', 'next_obs', 'terminated'):
        assert np.array_equal(getattr(memory_a, name), getattr(memory_b, name))
    assert memory_a.state_dict() == memory_b.state_dict()


def test_round_trip_restores_everything(tmp_path):
    agent, memory = fresh()
    train(agent, memory, range(30))
    path = save_checkpoint(tmp_path, agent, {'env_steps': 30, 'episodes': 2}, memory,
                           save_memory=True)
    assert path == tmp_path / 'step_000000023' and latest_checkpoint(tmp_path) == path
    assert sorted(p.name for p in path.iterdir()) == [
        'networks.safetensors', 'optimizers.safetensors', 'replay.npz', 'state.json']
    assert json.loads((path / 'state.json').read_text())['config'] == CONFIG.to_dict() | {
        'hidden_sizes': [16, 16]}
    restored, restored_memory = fresh(seed=1)
    counters = load_checkpoint(path, restored, restored_memory)
    assert counters == {'env_steps': 30, 'episodes': 2}
    assert_identical(agent, restored)
    assert_same_memory(memory, restored_memory)


@pytest.mark.parametrize('save_memory', [True, False])
def test_resume_equals_uninterrupted_training(tmp_path, save_memory):
    agent, memory = fresh()
    train(agent, memory, range(25))
    save_checkpoint(tmp_path, agent, {'env_steps': 25}, memory, save_memory=save_memory)
    train(agent, memory, range(25, 40))

    resumed, resumed_memory = fresh(seed=1)
    assert load_checkpoint(latest_checkpoint(tmp_path), resumed, resumed_memory) == {
        'env_steps': 25}
    if save_memory:
        train(resumed, resumed_memory, range(25, 40))
        assert_identical(agent, resumed)
        assert_same_memory(memory, resumed_memory)
    else:  # counters and sampling generator come back, the transitions do not
        assert len(resumed_memory) == 0 and resumed_memory.total_added == 25


def test_latest_checkpoint_ignores_partial_and_incomplete_directories(tmp_path):
    assert latest_checkpoint(tmp_path / 'nothing_here') is None
    assert latest_checkpoint(tmp_path) is None
    agent, _ = fresh()
    good = save_checkpoint(tmp_path, agent, {})
    for name in ('.partial_step_000000009_0123', 'step_000000008', 'step_00000007x'):
        (tmp_path / name).mkdir()
        for file in ('networks.safetensors', 'optimizers.safetensors', 'state.json'):
            if name != 'step_000000008' or file != 'state.json':
                (tmp_path / name / file).write_bytes(b'')
    (tmp_path / 'step_000000010').write_text('a file, not a directory')
    assert latest_checkpoint(tmp_path) == good


def test_keep_prunes_the_oldest(tmp_path):
    agent, memory = fresh()
    for chunk in range(5):
        train(agent, memory, range(chunk * 10, chunk * 10 + 10))
        save_checkpoint(tmp_path, agent, {'chunk': chunk}, memory, save_memory=True, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['step_000000033', 'step_000000043']
    assert load_checkpoint(latest_checkpoint(tmp_path), fresh()[0]) == {'chunk': 4}


def test_saving_again_at_the_same_step_replaces_the_checkpoint(tmp_path):
    agent, _ = fresh()
    save_checkpoint(tmp_path, agent, {'env_steps': 100})
    path = save_checkpoint(tmp_path, agent, {'env_steps': 200})
    assert [p.name for p in tmp_path.iterdir()] == ['step_000000000']
    assert load_checkpoint(path, fresh()[0]) == {'env_steps': 200}


def test_a_failed_save_leaves_no_directory_behind(tmp_path, monkeypatch):
    agent, memory = fresh()
    first = save_checkpoint(tmp_path, agent, {})
    train(agent, memory, range(12))

    def crash(path):
        raise OSError('disk full')
    monkeypatch.setattr(memory, 'save', crash)
    with pytest.raises(OSError, match='disk full'):
        save_checkpoint(tmp_path, agent, {}, memory, save_memory=True)
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def corrupt_networks(path):
    data = (path / 'networks.safetensors').read_bytes()
    (path / 'networks.safetensors').write_bytes(data[:len(data) // 2])


def corrupt_optimizers(path):
    (path / 'optimizers.safetensors').write_bytes(b'\x00' * 64)


def corrupt_state(path):
    (path / 'state.json').write_text('{"format": "t3d_ros.checkpoint", "format_ver')


def corrupt_replay(path):
    (path / 'replay.npz').write_bytes(b'PK\x03\x04 not really a zip')


def remove_networks(path):
    (path / 'networks.safetensors').unlink()


@pytest.mark.parametrize('damage, message', [
    (corrupt_networks, 'networks.safetensors: SafetensorError'),
    (corrupt_optimizers, 'optimizers.safetensors: SafetensorError'),
    (corrupt_state, 'state.json: JSONDecodeError'),
    (corrupt_replay, 'replay.npz: BadZipFile'),
    (remove_networks, r"incomplete: missing \['networks.safetensors'\]"),
])
def test_a_corrupt_checkpoint_gives_a_clear_error_and_changes_nothing(tmp_path, damage, message):
    agent, memory = fresh()
    train(agent, memory, range(20))
    path = save_checkpoint(tmp_path, agent, {}, memory, save_memory=True)
    damage(path)
    target, target_memory = fresh(seed=1)
    untouched, untouched_memory = fresh(seed=1)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path, target, target_memory)
    assert_identical(target, untouched)
    assert_same_memory(target_memory, untouched_memory)


def test_a_checkpoint_of_other_networks_is_refused(tmp_path):
    agent, _ = fresh()
    path = save_checkpoint(tmp_path, agent, {})
    other = TD3(OBS_DIM, LOW, HIGH, CONFIG.replace(hidden_sizes=(8,)))
    with pytest.raises(CheckpointError, match='(?s)does not fit this agent: .*size mismatch'):
        load_checkpoint(path, other)


@pytest.mark.parametrize('save_memory', [True, False])
def test_a_memory_of_another_capacity_is_refused_and_the_agent_rolled_back(tmp_path, save_memory):
    agent, memory = fresh()
    train(agent, memory, range(20))
    path = save_checkpoint(tmp_path, agent, {}, memory, save_memory=save_memory)
    target, untouched = fresh(seed=1)[0], fresh(seed=1)[0]
    with pytest.raises(CheckpointError, match='capacity'):
        load_checkpoint(path, target, ReplayMemory(OBS_DIM, 2, capacity=32))
    assert_identical(target, untouched)


def test_leftovers_of_a_crash_are_removed_at_the_next_save(tmp_path):
    """
    The next save clears what a crash mid-save leaves.

    A hidden partial directory, a checkpoint moved aside as stale while its replacement was
    renamed in, and temporary files.
    """
    agent, memory = fresh()
    old = save_checkpoint(tmp_path, agent, {'run': 1})
    (tmp_path / '.partial_step_000000005_0123abcd').mkdir()
    (tmp_path / '.partial_step_000000005_0123abcd' / 'state.json').write_text('{')
    # moved aside while `old` replaced it: `old` is the one to keep
    stale = tmp_path / f'.stale_.partial_{old.name}_4567'
    save_checkpoint(tmp_path / 'other', agent, {'run': 0}).rename(stale)
    (tmp_path / '.networks.safetensors.0123456789abcdef0123456789abcdef.tmp').write_bytes(b'x')
    train(agent, memory, range(12))
    new = save_checkpoint(tmp_path, agent, {'run': 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['other', old.name, new.name])


def test_a_checkpoint_left_aside_as_stale_by_a_crash_is_restored_not_lost(tmp_path):
    """
    Crash between moving a checkpoint aside and renaming its replacement in.

    The stale copy is the only complete one of that step, so the next resume puts it back.
    """
    agent, _ = fresh()
    path = save_checkpoint(tmp_path, agent, {'env_steps': 7})
    path.rename(tmp_path / f'.stale_.partial_{path.name}_89ab')
    assert latest_checkpoint(tmp_path) is None
    recover_checkpoints(tmp_path)
    assert latest_checkpoint(tmp_path) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert load_checkpoint(path, fresh()[0]) == {'env_steps': 7}
