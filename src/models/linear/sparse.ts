/** Rows of a sparse matrix in compressed sparse row form: row `r` spans `indptr[r]..indptr[r+1]`. */
export interface SparseRows {
  nRows: number;
  nCols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** One sparse row: parallel column indices and values. */
export interface SparseRow {
  indices: Int32Array;
  values: Float32Array;
}

/** Builds CSR rows from per-row index/value arrays. */
export function stackRows(rows: SparseRow[], nCols: number): SparseRows {
  const indptr = new Int32Array(rows.length + 1);
  for (let r = 0; r < rows.length; r++) indptr[r + 1] = indptr[r]! + rows[r]!.indices.length;
  const indices = new Int32Array(indptr[rows.length]!);
  const values = new Float32Array(indptr[rows.length]!);
  for (let r = 0; r < rows.length; r++) {
    indices.set(rows[r]!.indices, indptr[r]!);
    values.set(rows[r]!.values, indptr[r]!);
  }
  return { nRows: rows.length, nCols, indptr, indices, values };
}

/** The rows whose numbers are listed in `which`, in that order. */
export function selectRows(m: SparseRows, which: ArrayLike<number>): SparseRows {
  const indptr = new Int32Array(which.length + 1);
  for (let r = 0; r < which.length; r++) {
    const src = which[r]!;
    indptr[r + 1] = indptr[r]! + (m.indptr[src + 1]! - m.indptr[src]!);
  }
  const indices = new Int32Array(indptr[which.length]!);
  const values = new Float32Array(indptr[which.length]!);
  for (let r = 0; r < which.length; r++) {
    const src = which[r]!;
    indices.set(m.indices.subarray(m.indptr[src]!, m.indptr[src + 1]!), indptr[r]!);
    values.set(m.values.subarray(m.indptr[src]!, m.indptr[src + 1]!), indptr[r]!);
  }
  return { nRows: which.length, nCols: m.nCols, indptr, indices, values };
}
