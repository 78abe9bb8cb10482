"""A new article of the same genre -> a proposed encoding for a person to review (``kg draft``).

Nothing here writes to a store: the known districts, mechanisms and topics are read from the
project's Turtle files (``known``), the article is cut into district sections and clauses
(``sections``, ``clauses``), spotters propose links to known concepts (``spotting``), new
mechanisms and topics (``naming``), facts (``numbers``) and typed dates (``dates``), each with its
verbatim quote, offsets, rule and confidence (``model``); ``drafter`` puts them together and
``writer`` prints JSON (CONTRACT.md, "Sources and drafts") or Turtle.
"""
