from kernel.ui import page_context

ctx = page_context()
