"""The chat page (Gradio): ``ui.app`` wires it, ``ui.render`` turns answers into safe HTML/markdown."""
