"""Statistics for casework: counting rules, dimensions, disclosure control, estimates, workbooks.

Pure functions over plain records or query results: nothing here imports Flask, opens a session or
speaks HTTP. The flow is records (or SQL rows) -> aggregates -> figures and tables -> suppression
-> workbook; nothing reaches a file before suppression (the workbook accepts only suppressed tables).
"""
