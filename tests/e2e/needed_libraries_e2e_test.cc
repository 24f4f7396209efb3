// The libraries every nixjail-runner process loads at start-up: libgit2 and libcurl are not among
// them (each is loaded with dlopen on its first call: workspace-cache/git2_library.h,
// runner/forge/curl_library.h), so `--version` and a one-step `exec` do not pay for them and
// their dozens of dependencies; nor are those linked from their archives (NIXJAIL_STATIC_DEPS:
// SQLite, libseccomp, yaml-cpp, OpenSSL where the system has the archives) or built in
// (NIXJAIL_STATIC_CXX: libstdc++, libgcc_s, spdlog and fmt).
#include <elf.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

const std::string kBinary = NIXJAIL_BINARY;

// The DT_NEEDED entries of the ELF file `image`, from its dynamic section and the string table
// that section links to. Empty with `why` set when `image` is not a 64-bit ELF file with one.
std::vector<std::string> neededLibraries(const std::string& image, std::string& why) {
    auto fits = [&](uint64_t offset, uint64_t size) {
        return offset <= image.size() && size <= image.size() - offset;
    };
    Elf64_Ehdr eh;
    if (!fits(0, sizeof eh) || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0) {
        why = "not an ELF file";
        return {};
    }
    std::memcpy(&eh, image.data(), sizeof eh);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        !fits(eh.e_shoff, uint64_t{eh.e_shnum} * eh.e_shentsize)) {
        why = "not a 64-bit ELF file with section headers";
        return {};
    }
    auto section = [&](size_t i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, image.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
        return sh;
    };
    for (size_t i = 0; i < eh.e_shnum; ++i) {
        const Elf64_Shdr dyn = section(i);
        if (dyn.sh_type != SHT_DYNAMIC) continue;
        if (dyn.sh_link >= eh.e_shnum || !fits(dyn.sh_offset, dyn.sh_size)) break;
        const Elf64_Shdr strtab = section(dyn.sh_link);
        if (!fits(strtab.sh_offset, strtab.sh_size)) break;
        const std::string_view strings(image.data() + strtab.sh_offset, strtab.sh_size);
        std::vector<std::string> out;
        for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dyn.sh_size; off += sizeof(Elf64_Dyn)) {
            Elf64_Dyn d;
            std::memcpy(&d, image.data() + dyn.sh_offset + off, sizeof d);
            if (d.d_tag == DT_NULL) break;
            if (d.d_tag != DT_NEEDED || d.d_un.d_val >= strings.size()) continue;
            const auto name = strings.substr(d.d_un.d_val);
            out.emplace_back(name.substr(0, name.find('\0')));
        }
        return out;
    }
    why = "no readable dynamic section (a static executable?)";
    return {};
}

// The runner binary's DT_NEEDED entries; a failure (and an empty list) when it cannot be read.
std::vector<std::string> neededOfRunner() {
    std::ifstream in(kBinary, std::ios::binary);
    if (!in) {
        ADD_FAILURE() << "cannot read '" << kBinary << "'";
        return {};
    }
    const std::string image{std::istreambuf_iterator<char>(in), {}};
    std::string why;
    auto needed = neededLibraries(image, why);
    if (needed.empty()) ADD_FAILURE() << "'" << kBinary << "': " << why;
    return needed;
}

TEST(NeededLibraries, RunnerLoadsNeitherLibgit2NorLibcurlAtStartUp) {
    const auto needed = neededOfRunner();
    ASSERT_FALSE(needed.empty());
    std::string all;
    for (const auto& n : needed) all += n + " ";
    // A library every dynamically linked program needs: the reader found the right entries.
    EXPECT_NE(all.find("libc."), std::string::npos) << all;
    for (const auto& n : needed) {
        EXPECT_EQ(n.find("libgit2"), std::string::npos)
            << "'" << kBinary << "' links " << n << "; call libgit2 through nixjail_cache "
            << "(workspace-cache/git2_library.h) instead of linking PkgConfig::LIBGIT2";
        EXPECT_EQ(n.find("libcurl"), std::string::npos)
            << "'" << kBinary << "' links " << n << "; call libcurl through curlLibrary() "
            << "(runner/forge/curl_library.h) instead of linking CURL::libcurl";
    }
}

TEST(NeededLibraries, WhatWasLinkedFromItsArchiveIsNotLoadedAtStartUp) {
    std::istringstream archives(NIXJAIL_STATIC_ARCHIVES);  // "libsqlite3 libssl ..."
    std::vector<std::string> linked{std::istream_iterator<std::string>(archives), {}};
    if (linked.empty()) GTEST_SKIP() << "this build linked no library from its archive";
    const auto needed = neededOfRunner();
    ASSERT_FALSE(needed.empty());
    for (const auto& n : needed) {
        for (const auto& archive : linked) {
            EXPECT_NE(n.rfind(archive + ".so", 0), 0u)
                << "'" << kBinary << "' loads " << n << " at start-up, though " << archive
                << " was linked from its archive or built in (NIXJAIL_STATIC_DEPS, NIXJAIL_STATIC_CXX)";
        }
    }
}

}  // namespace
