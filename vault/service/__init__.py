"""The service layer: one function per use case, typed inputs and results; front ends only parse, call and render."""
