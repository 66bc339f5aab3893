"""The paper's figures regenerated for any dataset: Fig. 3 (adaptive prominence), Fig. 4
(registration and reconstruction), Fig. S11 (compression against spots per pattern)."""
