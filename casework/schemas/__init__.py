"""marshmallow schemas: <Noun>Schema (out), <Noun>CreateSchema, <Noun>UpdateSchema (in)."""
