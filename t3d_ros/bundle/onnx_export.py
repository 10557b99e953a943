"""
A policy bundle's actor as an ONNX model, for C++ controllers: ``t3d-ros export POLICY --onnx``.

One input, ``observation`` (float32, batch x obs_dim, the fields of the bundle's observation
layout in order), and one output, ``command`` (float64, batch x joints, in the bundle's joint
order): the joint command in the task's units, within the bundle's limits. Inside: the
observation normaliser (if the bundle has one), the actor as ``acting/network_architecture.py``
describes it (in float32), then the scaling to each joint's limits in float64, the same steps
and numbers as ``NumpyPolicy`` (``acting/numpy_policy.py``). The bundle's metadata (task, joints,
interface, control period, observation layout, limits, gains, ...) are the model's
``metadata_props``, all strings, JSON where the bundle's are.

The graph is written with ``onnx.helper`` from the bundle's numpy weights: no torch, no exporter.
``onnx`` is the optional export extra (``requirements-onnx.txt``).
"""
from __future__ import annotations

import os

import numpy as np

from t3d_ros.acting.network_architecture import actor_architecture
from t3d_ros.tasks.scaling import ActionScaler
from t3d_ros.bundle.atomic import write_bytes_atomic
from t3d_ros.bundle.policy_bundle import PolicyBundle

ONNX_EXTRA = 'requirements-onnx.txt'
OPSET = 17
"""ONNX operator set: onnxruntime 1.13 (2022) and later run it."""
IR_VERSION = 8
"""The file format version that goes with ``OPSET``, so older C++ runtimes load the file."""
FORMAT = 't3d_ros.onnx_policy/1'
INPUT, OUTPUT = 'observation', 'command'
_BUNDLE_FORMAT_KEYS = ('format', 'format_version', 'content_hash')
ACTIVATIONS = {'relu': 'Relu', 'tanh': 'Tanh'}
"""The ONNX operator of each activation ``acting/network_architecture.py`` names."""


def onnx_metadata(bundle: PolicyBundle) -> dict[str, str]:
    """Return the ONNX ``metadata_props``: the bundle's metadata, its hash and format renamed."""
    metadata = bundle.metadata()
    return {'format': FORMAT, 'input': INPUT, 'output': OUTPUT,
            'bundle_format_version': metadata['format_version'],
            'bundle_content_hash': metadata['content_hash'],
            **{key: value for key, value in metadata.items() if key not in _BUNDLE_FORMAT_KEYS}}


def onnx_model(bundle: PolicyBundle):
    """Return the ``onnx.ModelProto`` of the bundle's actor (module docstring), checked."""
    onnx = _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    nodes, weights = [], []

    def constant(name: str, array: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output))
        return output

    x = INPUT
    if bundle.obs_mean is not None:
        x = node('Sub', [x, constant('obs_mean', bundle.obs_mean)], 'centred')
        x = node('Div', [x, constant('obs_std', bundle.obs_std)], 'normalised')
    architecture = actor_architecture(bundle.obs_dim, bundle.act_dim, bundle.hidden_sizes)
    for layer, (name, activation) in enumerate(zip(architecture.layer_names,
                                                   architecture.activations)):
        weight = bundle.actor_state[f'{name}.weight'].T  # x @ W.T, as nn.Linear
        x = node('MatMul', [x, constant(f'{name}.weight', weight)], f'matmul_{layer}')
        x = node('Add', [x, constant(f'{name}.bias', bundle.actor_state[f'{name}.bias'])],
                 f'linear_{layer}')
        if activation is not None:
            x = node(ACTIVATIONS[activation], [x], f'{activation}_{layer}')
    nodes.append(helper.make_node('Cast', [x], ['unit_action'], name='unit_action',
                                  to=TensorProto.DOUBLE))
    scaler = ActionScaler(bundle.action_low, bundle.action_high)
    x = node('Clip', ['unit_action', constant('unit_low', np.array(-1.0)),
                      constant('unit_high', np.array(1.0))], 'unit_action_clipped')
    x = node('Mul', [x, constant('half_range', scaler.half_range)], 'scaled')
    x = node('Add', [x, constant('center', scaler.center)], 'shifted')
    x = node('Max', [x, constant('action_low', scaler.low)], 'above_low')
    node('Min', [x, constant('action_high', scaler.high)], OUTPUT)
    graph = helper.make_graph(
        nodes, f'{bundle.task}_actor',
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ['batch', bundle.obs_dim])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.DOUBLE, ['batch', bundle.act_dim])],
        weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              ir_version=IR_VERSION, producer_name='t3d_ros',
                              doc_string=__doc__.strip().splitlines()[0])
    helper.set_model_props(model, onnx_metadata(bundle))
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(bundle: PolicyBundle, path: str | os.PathLike) -> None:
    """Write the bundle's actor as an ONNX model to ``path``, atomically."""
    write_bytes_atomic(path, onnx_model(bundle).SerializeToString())


def _import_onnx():
    try:
        import onnx
    except ImportError as error:
        raise ValueError(f'--onnx needs the onnx package, the optional export extra: pip install '
                         f'-r {ONNX_EXTRA} ({error})') from None
    return onnx
