# arbor_cc_library(NAME SRCS ... DEPS ...): one static library per folder.
# arbor_cc_test(NAME SRCS ... DEPS ...): a gtest binary registered with ctest.
set(ARBOR_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(arbor_cc_library NAME)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_library(arbor_${NAME} STATIC ${A_SRCS})
  target_include_directories(arbor_${NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(arbor_${NAME} PRIVATE ${ARBOR_WARNINGS})
  target_link_libraries(arbor_${NAME} PUBLIC ${A_DEPS})
endfunction()

function(arbor_cc_test NAME)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${NAME} ${A_SRCS})
  target_compile_options(${NAME} PRIVATE ${ARBOR_WARNINGS})
  target_link_libraries(${NAME} PRIVATE ${A_DEPS} GTest::gtest_main)
  add_test(NAME ${NAME} COMMAND ${NAME})
endfunction()

# arbor_fuzzer(NAME SRCS ... DEPS ...): a libFuzzer target, built only with -DARBOR_FUZZ=ON
# (clang). Run by scripts/fuzz.sh.
function(arbor_fuzzer NAME)
  if(NOT ARBOR_FUZZ)
    return()
  endif()
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${NAME} ${A_SRCS})
  target_compile_options(${NAME} PRIVATE ${ARBOR_WARNINGS})
  target_link_libraries(${NAME} PRIVATE ${A_DEPS})
  target_link_options(${NAME} PRIVATE -fsanitize=fuzzer)
endfunction()
