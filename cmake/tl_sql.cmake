# tl_sql_embed(TARGET PREFIX DIR): embed every DIR/*.sql into TARGET.
#
# Runtime SQL lives in files, one statement per file, named for what it does
# (dispatcher/sql/offer_insert.sql). A file starts with comment lines; one of
# them may declare the result columns in order:
#
#   -- Offer a task to a worker: one reservation row per offer.
#   -- columns: reservation_id, epoch, deadline_us
#   INSERT INTO reservations ... RETURNING id, epoch, ...
#
# The build generates <PREFIX>_sql.h and <PREFIX>_sql.c beside the target's
# objects: a `const db_stmt <prefix>_sql_<name>` for each file, with its
# parameter count taken from the highest $n in the text, and an enum
# <PREFIX>_<NAME>_<COLUMN> per declared column (and <PREFIX>_<NAME>_NCOLS),
# so code reads db_val(r, row, DSP_OFFER_INSERT_EPOCH), never a bare number.
# <prefix>_sql_all lists every statement; tests/integration/itest_sql.c
# prepares each on a migrated database and checks the parameter count and
# the declared columns against PostgreSQL's own description.
function(tl_sql_embed target prefix dir)
  file(GLOB files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT files)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${files})
  string(TOUPPER "${prefix}" PFX)
  set(h "/* Generated from the SQL files in ${dir} by cmake/tl_sql.cmake. */\n")
  string(APPEND h "#ifndef TL_${PFX}_SQL_H\n#define TL_${PFX}_SQL_H\n\n")
  string(APPEND h "#include \"db.h\"\n\n")
  set(c "/* Generated from the SQL files in ${dir} by cmake/tl_sql.cmake. */\n")
  string(APPEND c "#include \"${prefix}_sql.h\"\n\n")
  set(all "")
  set(count 0)
  foreach(f ${files})
    get_filename_component(name ${f} NAME_WE)
    if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
      message(FATAL_ERROR "${f}: SQL file names are [a-z][a-z0-9_]*.sql")
    endif()
    string(TOUPPER "${name}" NAME)
    file(READ ${f} text)
    # Parameter count: the highest $n.
    string(REGEX MATCHALL "\\$[0-9]+" refs "${text}")
    set(nparams 0)
    foreach(r ${refs})
      string(SUBSTRING "${r}" 1 -1 n)
      if(n GREATER nparams)
        set(nparams ${n})
      endif()
    endforeach()
    # Declared columns.
    set(cols "")
    set(colstr "")
    string(REGEX MATCH "\n?-- columns:[^\n]*" decl "${text}")
    if(decl)
      string(REGEX REPLACE "\n?-- columns:" "" decl "${decl}")
      string(REPLACE "," ";" decl "${decl}")
      foreach(col ${decl})
        string(STRIP "${col}" col)
        if(NOT col MATCHES "^[a-z_][a-z0-9_]*$")
          message(FATAL_ERROR "${f}: column \"${col}\" is not [a-z_][a-z0-9_]*")
        endif()
        list(APPEND cols ${col})
      endforeach()
      string(JOIN "," colstr ${cols})
    endif()
    string(APPEND h "extern const db_stmt ${prefix}_sql_${name};\n")
    if(cols)
      string(APPEND h "enum {\n")
      foreach(col ${cols})
        string(TOUPPER "${col}" COL)
        string(APPEND h "    ${PFX}_${NAME}_${COL},\n")
      endforeach()
      string(APPEND h "    ${PFX}_${NAME}_NCOLS\n};\n")
    endif()
    file(READ ${f} hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string(APPEND c "static const unsigned char text_${name}[] = {${bytes}0x00};\n")
    string(APPEND c "const db_stmt ${prefix}_sql_${name} = {\"${prefix}_${name}\", ")
    string(APPEND c "(const char *)text_${name}, ${nparams}, \"${colstr}\"};\n")
    string(APPEND all "    &${prefix}_sql_${name},\n")
    math(EXPR count "${count} + 1")
  endforeach()
  string(APPEND h "\n/* Every statement above, for the test that prepares them all. */\n")
  string(APPEND h "extern const db_stmt *const ${prefix}_sql_all[];\n")
  string(APPEND h "extern const int ${prefix}_sql_count;\n\n#endif\n")
  if(count EQUAL 0)
    string(APPEND all "    NULL,\n")
  endif()
  string(APPEND c "\nconst db_stmt *const ${prefix}_sql_all[] = {\n${all}};\n")
  string(APPEND c "const int ${prefix}_sql_count = ${count};\n")
  set(out ${CMAKE_CURRENT_BINARY_DIR}/sql_embed)
  file(CONFIGURE OUTPUT ${out}/${prefix}_sql.h CONTENT "${h}" @ONLY)
  file(CONFIGURE OUTPUT ${out}/${prefix}_sql.c CONTENT "${c}" @ONLY)
  target_sources(${target} PRIVATE ${out}/${prefix}_sql.c)
  target_include_directories(${target} PUBLIC ${out})
endfunction()
