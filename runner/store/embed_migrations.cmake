# Turns migrations/NNN_name.sql into a .cc holding them as raw strings, so the installed binary
# needs no migrations directory. Run by add_custom_command with -DOUT=... -DDIR=...
file(GLOB sql_files "${DIR}/[0-9][0-9][0-9]_*.sql")
list(SORT sql_files)
set(body "")
foreach(f IN LISTS sql_files)
    get_filename_component(name "${f}" NAME)
    string(SUBSTRING "${name}" 0 3 num)
    math(EXPR version "${num}")
    file(READ "${f}" sql)
    string(APPEND body "    {${version}, \"${name}\", R\"nixjail_sql(${sql})nixjail_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from migrations/*.sql by runner/store/embed_migrations.cmake; do not edit.
#include \"runner/store/migrations.h\"

namespace nixjail::runner::store {

const std::vector<Migration>& embeddedMigrations() {
    static const std::vector<Migration> kMigrations = {
${body}    };
    return kMigrations;
}

}  // namespace nixjail::runner::store
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
