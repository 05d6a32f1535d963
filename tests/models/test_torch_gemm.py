import numpy
import pytest
from thinc.api import Maxout, NumpyOps, use_ops

from spacy_lstm.models.torch_gemm import TorchGemmOps, bfloat16_gemm, use_torch_gemm


@pytest.mark.parametrize("trans1", [False, True])
@pytest.mark.parametrize("trans2", [False, True])
def test_gemm_equals_thinc_gemm(trans1, trans2):
    rng = numpy.random.default_rng(0)
    x = rng.normal(size=(7, 5) if trans1 else (5, 7)).astype("float32")
    y = rng.normal(size=(3, 7) if trans2 else (7, 3)).astype("float32")
    expected = NumpyOps().gemm(x, y, trans1=trans1, trans2=trans2)
    ops = TorchGemmOps()
    numpy.testing.assert_allclose(
        ops.gemm(x, y, trans1=trans1, trans2=trans2), expected, rtol=1e-5
    )
    out = numpy.zeros((5, 3), dtype="float32")
    assert ops.gemm(x, y, out=out, trans1=trans1, trans2=trans2) is out
    numpy.testing.assert_allclose(out, expected, rtol=1e-5)


def test_arrays_torch_cannot_share_go_to_numpy_ops():
    x = numpy.arange(6, dtype="float32").reshape(2, 3)
    x.flags.writeable = False
    y = numpy.ones((3, 2), dtype="float32")
    numpy.testing.assert_array_equal(TorchGemmOps().gemm(x, y), x @ y)


def test_only_plain_numpy_ops_are_replaced():
    model = Maxout(4, 3, nP=2)
    assert type(use_torch_gemm(model).ops) is TorchGemmOps
    X = numpy.random.default_rng(1).normal(size=(6, 3)).astype("float32")
    model.initialize(X=X)
    Y, backprop = model.begin_update(X)
    reference = Maxout(4, 3, nP=2)
    reference.initialize(X=X)
    for name in ("W", "b"):
        reference.set_param(name, model.get_param(name))
    numpy.testing.assert_allclose(Y, reference.predict(X), rtol=1e-5)
    assert backprop(numpy.ones_like(Y)).shape == X.shape

    class OtherOps(NumpyOps):
        pass

    with use_ops("numpy"):
        other = Maxout(4, 3, nP=2)
    other.ops = OtherOps()
    assert type(use_torch_gemm(other).ops) is OtherOps


@pytest.mark.parametrize("trans2", [False, True])
def test_gemm_in_bfloat16_scope(trans2):
    """Inside bfloat16_gemm the product is computed in bfloat16 and returned
    in float32, rows padded and unpadded; outside, float32 as before."""
    rng = numpy.random.default_rng(1)
    x = rng.normal(size=(37, 20)).astype("float32")
    y = rng.normal(size=(6, 20) if trans2 else (20, 6)).astype("float32")
    expected = NumpyOps().gemm(x, y, trans2=trans2)
    ops = TorchGemmOps()
    with bfloat16_gemm():
        got = ops.gemm(x, y, trans2=trans2)
        out = numpy.zeros((37, 6), dtype="float32")
        ops.gemm(x, y, out=out, trans2=trans2)
    assert got.dtype == numpy.float32 and got.shape == (37, 6)
    numpy.testing.assert_array_equal(out, got)
    assert not numpy.array_equal(got, expected)
    numpy.testing.assert_allclose(got, expected, rtol=0.05, atol=0.2)
    # float32: torch's and numpy's products round alike but for the last bits
    with bfloat16_gemm(False):
        numpy.testing.assert_allclose(
            ops.gemm(x, y, trans2=trans2), expected, rtol=1e-5, atol=1e-6
        )
    numpy.testing.assert_allclose(
        ops.gemm(x, y, trans2=trans2), expected, rtol=1e-5, atol=1e-6
    )
    empty = numpy.zeros((0, 20), dtype="float32")
    with bfloat16_gemm():
        assert ops.gemm(empty, y, trans2=trans2).shape == (0, 6)
