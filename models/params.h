// Model parameters as graph inputs with defaults: a user rebinds them at run time (--set g_Na=120)
// without rebuilding the graph.
#pragma once
#include <string>
#include <vector>

#include "graph/builder.h"

namespace sf {

// A scalar input of dtype `d` with default `v`.
Value param(Builder& b, const std::string& name, double v, DType d);

// A vector input [values.size()] of dtype `d`.
Value param(Builder& b, const std::string& name, const std::vector<double>& values, DType d);

// An i64 vector input (synapse index vectors, neuron indices).
Value index_param(Builder& b, const std::string& name, const std::vector<int64_t>& values);

// n copies of v (the tutorial's `[v]*n`).
std::vector<double> repeat(double v, int64_t n);

// Concatenates two lists (the tutorial's `[a]*p_n + [b]*l_n`).
std::vector<double> join(std::vector<double> a, const std::vector<double>& b);

}  // namespace sf
