"""Contiguous arrays seen in another shape, without numba's reshape.

numba's ``reshape`` and ``ravel`` check the sizes at run time through a helper that they
compile into every kernel using them (several tenths of a second of a cold start in all).
The kernels' views are of their own workspaces and caches, whose sizes they compute, so
these two only reinterpret: same data, same reference, C order. The caller guarantees that
the shape fits in the array.
"""
import functools

from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


def _view(context, builder, source_type, source, result_type, dims):
    """A C-contiguous array of ``result_type`` with extents ``dims`` on ``source``'s data."""
    array = make_array(source_type)(context, builder, source)
    strides = [array.itemsize]
    for extent in reversed(dims[1:]):
        strides.insert(0, builder.mul(strides[0], extent))
    view = make_array(result_type)(context, builder)
    populate_array(view, data=array.data, shape=dims, strides=strides, itemsize=array.itemsize,
                   meminfo=array.meminfo, parent=array.parent)
    return impl_ret_borrowed(context, builder, result_type, view._getvalue())


@intrinsic
def as_shape(typingctx, flat, shape):
    """The 1-D C-contiguous array ``flat`` seen as a C-contiguous array of ``shape`` (a tuple
    of integers whose product is at most its size)."""
    if not (isinstance(flat, types.Array) and flat.ndim == 1 and flat.layout == "C"
            and isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape)):
        return None
    result = flat.copy(ndim=len(shape), layout="C")

    def codegen(context, builder, signature, args):
        extents = cgutils.unpack_tuple(builder, args[1], len(shape))
        dims = [context.cast(builder, extent, t, types.intp) for extent, t in zip(extents, shape)]
        return _view(context, builder, flat, args[0], result, dims)
    return result(flat, shape), codegen


@intrinsic
def as_flat(typingctx, array):
    """The C-contiguous array ``array`` seen as one row of all its entries."""
    if not (isinstance(array, types.Array) and array.layout == "C"):
        return None
    result = array.copy(ndim=1, layout="C")

    def codegen(context, builder, signature, args):
        shape = cgutils.unpack_tuple(builder, make_array(array)(context, builder, args[0]).shape, array.ndim)
        return _view(context, builder, array, args[0], result, [functools.reduce(builder.mul, shape)])
    return result(array), codegen
