"""
``t3d-ros export POLICY --onnx FILE`` (issue 19.5): onnxruntime's commands are the numpy policy's.

For every shipped task, a fresh actor with an observation normaliser (and pendulum's without
one), on random observations wide enough to saturate joints at their limits. The actor runs in
float32 in both, so they agree to float32 rounding of the unit action, scaled to each joint.
"""
import dataclasses
import json
import sys

import numpy as np
import pytest

from t3d_ros import cli
from t3d_ros.acting.numpy_policy import NumpyPolicy
from t3d_ros.bench.common import random_bundle
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.tasks import make_task, task_names

ort = pytest.importorskip('onnxruntime', reason='the export extra (requirements-onnx.txt)')
pytest.importorskip('onnx', reason='the export extra (requirements-onnx.txt)')

OBSERVATIONS = 256
UNIT_TOLERANCE = 1e-5
"""Largest difference of the unit actions (float32 rounding of the same layers, summed in
another order), scaled by each joint's half range."""


def bundle_for(task_name: str, normaliser: bool) -> PolicyBundle:
    task = make_task(task_name)
    bundle = random_bundle(task, hidden_sizes=(64, 64))
    if not normaliser:
        return bundle
    rng = np.random.default_rng(1)
    return dataclasses.replace(bundle, obs_mean=rng.normal(size=task.obs_dim),
                               obs_std=rng.uniform(0.5, 2.0, size=task.obs_dim))


@pytest.mark.parametrize('task_name, normaliser', [
    *((name, True) for name in task_names()), ('pendulum', False)])
def test_onnxruntime_commands_equal_the_numpy_policy(task_name, normaliser, tmp_path, capsys):
    bundle = bundle_for(task_name, normaliser)
    policy, model = tmp_path / 'policy.safetensors', tmp_path / 'actor.onnx'
    bundle.save(policy)
    assert cli.main(['export', str(policy), '--onnx', str(model)]) == 0
    assert f'{model}: observation float32 (batch, {bundle.obs_dim})' in capsys.readouterr().out
    session = ort.InferenceSession(str(model), providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    observations = (3.0 * rng.normal(size=(OBSERVATIONS, bundle.obs_dim))).astype(np.float32)
    (commands,) = session.run(['command'], {'observation': observations})
    expected = NumpyPolicy.from_bundle(bundle)(observations)
    assert commands.dtype == np.float64 and commands.shape == expected.shape
    half_range = (bundle.action_high - bundle.action_low) / 2
    unit_difference = np.abs(commands - expected) / half_range
    assert unit_difference.max() <= UNIT_TOLERANCE, unit_difference.max()
    assert np.all((commands >= bundle.action_low) & (commands <= bundle.action_high))
    single = session.run(['command'], {'observation': observations[:1]})[0]
    np.testing.assert_array_equal(single, commands[:1])


def test_the_model_carries_the_bundle_metadata(tmp_path):
    from t3d_ros.bundle.onnx_export import export_onnx

    bundle = bundle_for('iiwa_reach', normaliser=False)
    export_onnx(bundle, tmp_path / 'actor.onnx')
    session = ort.InferenceSession(str(tmp_path / 'actor.onnx'),
                                   providers=['CPUExecutionProvider'])
    metadata = session.get_modelmeta().custom_metadata_map
    assert metadata['task'] == 'iiwa_reach' and metadata['interface'] == 'position'
    assert json.loads(metadata['joint_names']) == list(bundle.joint_names)
    assert json.loads(metadata['control_period']) == bundle.control_period
    assert [tuple(entry) for entry in json.loads(metadata['obs_layout'])] == list(
        bundle.obs_layout)
    assert metadata['bundle_content_hash'] == bundle.content_hash
    assert [(i.name, i.shape) for i in session.get_inputs()] == [
        ('observation', ['batch', bundle.obs_dim])]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [
        ('command', ['batch', bundle.act_dim])]


def test_a_missing_export_extra_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnx', None)  # importing it raises ImportError
    policy = tmp_path / 'policy.safetensors'
    bundle_for('pendulum', normaliser=False).save(policy)
    assert cli.main(['export', str(policy), '--onnx', str(tmp_path / 'actor.onnx')]) == 2
    assert 'pip install -r requirements-onnx.txt' in capsys.readouterr().err
    assert not (tmp_path / 'actor.onnx').exists()
