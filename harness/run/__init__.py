"""Running an unlearning method and evaluating a checkpoint: settings, pipeline, models, budget."""
