"""Excel workbooks: one module per workbook, pure functions that return bytes."""
