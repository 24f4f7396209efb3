#include "runner/actions/checkout_inputs.h"

#include <gtest/gtest.h>

#include <map>

#include "runner/base/error.h"

namespace nixjail::runner::actions {
namespace {

CheckoutInputs read(std::map<std::string, std::string> given) {
    return readCheckoutInputs([&](const char* key) {
        auto it = given.find(key);
        return it == given.end() ? std::string() : it->second;
    });
}

std::string errorOf(std::map<std::string, std::string> given) {
    try {
        read(std::move(given));
    } catch (const base::Error& e) {
        return e.what();
    }
    return "";
}

TEST(CheckoutInputs, DefaultsAreActionsCheckouts) {
    const CheckoutInputs in = read({});
    EXPECT_EQ(in.fetch_depth, 1);
    EXPECT_FALSE(in.fetch_depth_given);
    EXPECT_FALSE(in.fetch_tags);
    EXPECT_TRUE(in.persist_credentials);
    EXPECT_TRUE(in.clean);
    EXPECT_TRUE(in.sparse_cone);
    EXPECT_TRUE(in.sparse_checkout.empty());
    EXPECT_EQ(in.submodules, "");
}

TEST(CheckoutInputs, ValuesAsWorkflowsWriteThem) {
    const CheckoutInputs in = read({{"fetch-depth", "0"},
                                    {"fetch-tags", "True"},
                                    {"persist-credentials", "false"},
                                    {"sparse-checkout", "src\n  docs/ \n\n"},
                                    {"sparse-checkout-cone-mode", "FALSE"},
                                    {"submodules", "Recursive"},
                                    {"ref", " v1.2 "}});
    EXPECT_EQ(in.fetch_depth, 0);
    EXPECT_TRUE(in.fetch_depth_given);
    EXPECT_TRUE(in.fetch_tags);
    EXPECT_FALSE(in.persist_credentials);
    EXPECT_EQ(in.sparse_checkout, (std::vector<std::string>{"src", "docs/"}));
    EXPECT_FALSE(in.sparse_cone);
    EXPECT_EQ(in.submodules, "recursive");
    EXPECT_EQ(in.ref, "v1.2");
    EXPECT_EQ(read({{"fetch-depth", "25"}, {"submodules", "false"}}).fetch_depth, 25);
    EXPECT_EQ(read({{"submodules", "false"}}).submodules, "");
}

TEST(CheckoutInputs, BadValuesNameTheInput) {
    EXPECT_NE(errorOf({{"fetch-depth", "deep"}}).find("'fetch-depth' is 'deep'"), std::string::npos);
    EXPECT_NE(errorOf({{"fetch-depth", "-1"}}).find("'fetch-depth'"), std::string::npos);
    EXPECT_NE(errorOf({{"clean", "yes"}}).find("'clean' is 'yes'; use true or false"), std::string::npos);
    EXPECT_NE(errorOf({{"submodules", "all"}}).find("'submodules' is 'all'"), std::string::npos);
}

TEST(CheckoutInputs, WhatThisRunnerCannotDoIsAClearError) {
    EXPECT_NE(errorOf({{"lfs", "true"}}).find("'lfs: true' is not supported"), std::string::npos);
    EXPECT_EQ(errorOf({{"lfs", "false"}}), "");
    EXPECT_NE(errorOf({{"ssh-key", "-----BEGIN"}}).find("'ssh-key' is not supported"), std::string::npos);
}

}  // namespace
}  // namespace nixjail::runner::actions
