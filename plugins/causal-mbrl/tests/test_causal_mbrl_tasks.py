"""Transition tasks: conformance, the batched emitters against one-environment stepping, rendering."""

import numpy as np
import torch

from etude.testing.conformance import TaskConformance

from etude_causal_mbrl import ChemistryTransitions, ColorChanging, PhysicsTransitions, WeightedBlockPushing


class TestChemistryTransitions(TaskConformance):
    component = ("task", "chemistry-transitions")

    def make_task(self, seed):
        return self.create(num_objects=4, graph="full4", train_episodes=6, train_length=5, val_episodes=2,
                           test_episodes=4, seed=seed)


class TestPhysicsTransitions(TaskConformance):
    component = ("task", "physics-transitions")

    def make_task(self, seed):
        return self.create(num_objects=3, train_episodes=6, train_length=5, test_episodes=4, seed=seed)


def test_chemistry_emitter_equals_stepping_one_environment_bitwise():
    task = ChemistryTransitions(num_objects=6, graph="random", scm_seed=5, deterministic=True, train_episodes=30,
                                train_length=12, test_episodes=2, seed=1)
    info = task.split("train").info
    env = ColorChanging(num_objects=6, graph="random", scm_seed=5, deterministic=True, observation="state")
    env.reset(seed=0)
    for e in range(30):
        env.colours = info["states"][e, 0].numpy().copy()
        for t in range(12):
            a = int(info["actions"][e, t])
            obs, *_ = env.step(a)
            np.testing.assert_array_equal(obs["state"], info["states"][e, t + 1].numpy())


def test_chemistry_start_states_follow_the_mechanisms_and_sampling_is_seeded():
    task = ChemistryTransitions(num_objects=5, graph="chain5", deterministic=True, train_episodes=50, train_length=1,
                                test_episodes=2, seed=0)
    s = task.split("train").info["states"][:, 0]
    # deterministic chain: every colour is a function of object 0's colour
    for c in s[:, 0].unique():
        rows = s[s[:, 0] == c]
        assert (rows == rows[0]).all()
    a = ChemistryTransitions(graph="full5", train_episodes=5, test_episodes=2, seed=3).split("train").info["states"]
    b = ChemistryTransitions(graph="full5", train_episodes=5, test_episodes=2, seed=3).split("train").info["states"]
    assert torch.equal(a, b)


def test_inputs_are_one_hot_state_and_action_and_targets_the_next_state():
    task = ChemistryTransitions(num_objects=3, graph="chain3", train_episodes=2, train_length=4, test_episodes=2)
    split = task.split("train")
    x, y, info = split.inputs, split.targets, split.info
    assert x.shape == (8, 30) and torch.equal(x.sum(-1), torch.full((8,), 4.0))
    state = x[:, :15].reshape(8, 3, 5).argmax(-1)
    torch.testing.assert_close(state, info["states"][:, :-1].reshape(8, 3))
    torch.testing.assert_close(x[:, 15:].argmax(-1), info["actions"].reshape(8))
    torch.testing.assert_close(y, info["states"][:, 1:].reshape(8, 3))


def test_physics_emitter_equals_stepping_the_environment():
    task = PhysicsTransitions(num_objects=4, train_episodes=20, train_length=10, test_episodes=2, seed=2)
    info = task.split("train").info
    env = WeightedBlockPushing(num_objects=4, observation="state")
    env.reset(seed=0)
    for e in range(20):
        env.positions = info["states"][e, 0].numpy().copy()
        for t in range(10):
            obs, *_ = env.step(int(info["actions"][e, t]))
            np.testing.assert_array_equal(obs["state"], info["states"][e, t + 1].numpy())


def test_rendered_batches_equal_the_environment_images():
    task = ChemistryTransitions(num_objects=5, graph="full5", train_episodes=3, train_length=2, test_episodes=2,
                                cell_size=6)
    env = ColorChanging(graph="full5", cell_size=6)
    env.reset(seed=0)
    states = task.split("train").info["states"][:, 0]
    imgs = task.render(states, task.split("train").info["positions"])
    for i in range(3):
        np.testing.assert_array_equal(imgs[i].numpy(), env.images(states[i].numpy()))
