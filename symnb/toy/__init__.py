"""The paper's model family dz/dt = sigma(theta1 z + theta2): symbols, activations, the model, data, the eq-43 loss.
Imports only `symnb.core`."""
