"""One pipeline per task: configuration, data, model, trainer and bundle wired together."""
