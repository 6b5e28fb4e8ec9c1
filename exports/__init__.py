"""Downloads and Excel workbooks: pure functions that return bytes; views only send them."""
