"""ONNX export of every zoo model, run in ONNX Runtime: outputs must match gaba's
(float32: within 1e-4 of the output scale). Skipped when onnx or onnxruntime is
not installed (CI installs both)."""
import numpy as np
import pytest

from gaba import zoo
from gaba.benchmarks.bench_zoo import make_inputs

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("name", zoo.names())
def test_onnx_matches_gaba(name, tmp_path):
    m = zoo.create(name, seed=1)
    path = str(tmp_path / "m.onnx")
    proto = m.to_onnx(path)
    assert [i.name for i in proto.graph.input] == list(m.inputs)
    assert [o.name for o in proto.graph.output] == list(m.outputs)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        x = make_inputs(m, batch, seed=batch)
        y = m(x)
        y = y if isinstance(y, dict) else {next(iter(m.outputs)): y}
        got = sess.run(list(m.outputs), x)
        for k, v in zip(m.outputs, got):
            assert v.shape == y[k].shape
            scale = max(1.0, float(np.abs(v).max()))
            np.testing.assert_allclose(y[k], v, rtol=0, atol=1e-4 * scale, err_msg=k)
