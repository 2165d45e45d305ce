"""Entry-point module of etude-relevancy-screening: registration only, no heavy imports."""

import etude

_PKG = "etude_relevancy_screening"


@etude.hookimpl
def plugin_info():
    return {
        "paper": {
            "authors": "Giancarlo Kerg, Bhargav Kanuparthi, Anirudh Goyal, Kyle Goyette, Yoshua Bengio, Guillaume Lajoie",
            "title": "Untangling tradeoffs between recurrence and self-attention in artificial neural networks",
            "venue": "NeurIPS",
            "year": 2020,
            "arxiv": "2006.09471",
        },
        "requires_core": ">=0.1",
    }


@etude.hookimpl
def register_components(registry):
    registry.add(
        "attention", "additive", f"{_PKG}.attention:AdditiveAttention",
        summary="Additive attention e_i = vᵀ tanh(W_q q + W_k k_i), softmax over allowed keys, raw values (Bahdanau).",
        example={"embed_dim": 16},
    )
    registry.add(
        "neuron", "modrelu", f"{_PKG}.neurons:ModReLU",
        summary="modReLU sign(z) relu(|z| + b) with a learned bias per unit (Arjovsky et al. 2016).",
        example={"num_units": 8},
    )
    registry.add(
        "model", "self-attentive-rnn", f"{_PKG}.model:SelfAttentiveRNN",
        summary="RNN / LSTM attending to its past states: none (RNN), full (MemRNN) or relevancy screening (RelRNN).",
        example={"input_size": 10, "num_classes": 10, "hidden_size": 16, "buffer_size": 3, "relevant_size": 2},
    )
    registry.add(
        "task", "denoise", f"{_PKG}.tasks:Denoise",
        summary="Denoise: symbols at random positions among blanks, recalled in order after a marker.",
        example={"length": 3, "delay": 10, "num_train": 32, "num_test": 16},
    )


_PAPER = {"authors": "Kerg et al.", "venue": "NeurIPS 2020", "arxiv": "2006.09471"}


@etude.hookimpl
def register_claims(registry):
    registry.add_claim(
        "relevancy-screening/bounded-attention-cost",
        run=f"{_PKG}.claims:bounded_attention_cost_run",
        judge=f"{_PKG}.claims:bounded_attention_cost_judge",
        statement="Relevancy screening \"allows for a scalable use of sparse self-attention with recurrence\": "
        "RelRNN attends to at most ν + ρ states per step, so its backward memory grows linearly in T while "
        "full self-attention's (MemRNN) grows quadratically, and the time ratio MemRNN / RelRNN grows with T.",
        source="Abstract; Section 4 (relevancy screening mechanism, complexity)",
        paper={"attended_per_step": "ν + ρ = 25 (RelRNN) vs t (MemRNN)", "memory": "O(T (ν + ρ)) vs O(T²)",
               **_PAPER},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
    registry.add_claim(
        "relevancy-screening/gradient-propagation",
        run=f"{_PKG}.claims:gradient_propagation_run",
        judge=f"{_PKG}.claims:gradient_propagation_judge",
        statement="Self-attention \"mitigates the problem of vanishing gradients\" with \"concrete bounds for "
        "gradient norms\" (paraphrase of the abstract): the loss gradient reaching a state RelRNN retains does "
        "not decay with its distance as in the RNN with the same (contractive) recurrent weights.",
        source="Abstract; Section 3 (gradient-norm bounds, Theorems 1-2), paraphrased",
        paper={"direction": "||∂L/∂h_i|| bounded below by the attention path for retained i", **_PAPER},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
    registry.add_claim(
        "relevancy-screening/copy-tradeoff",
        run=f"{_PKG}.claims:copy_tradeoff_run",
        judge=f"{_PKG}.claims:copy_tradeoff_judge",
        statement="RelRNN solves the copy task like full self-attention (MemRNN) at a fraction of its compute, "
        "where an RNN fails (\"tradeoffs in performance and computational resources\", abstract; paraphrase).",
        source="Abstract; Section 5 (copy and denoise tasks), paraphrased",
        paper={"copy_T1000": "RelRNN and MemRNN solve copy, RNN / LSTM do not (recollection, no table number)",
               **_PAPER},
        scales=("smoke", "quick", "full"),
        seeds={"smoke": 1, "quick": 3, "full": 3},
    )
    registry.add_claim(
        "relevancy-screening/transfer-copy",
        run=f"{_PKG}.claims:transfer_copy_run",
        judge=f"{_PKG}.claims:transfer_copy_judge",
        statement="The mechanism \"helps enable recurrent systems on generalization and transfer learning "
        "tasks\": trained on copy at a short delay, RelRNN transfers to much longer delays (up to T = 5000).",
        source="Abstract; Section 5 (transfer copy)",
        paper={"transfer": "RelRNN keeps recalling at T = 5000 after training at a short delay", **_PAPER},
        scales=("smoke", "full"),
        seeds={"smoke": 1, "full": 3},
    )
