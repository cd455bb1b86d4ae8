#include "args.hpp"

#include "pg_guard.hpp"

namespace adagio::pg {

std::optional<std::string> arg_as_text(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index)) return std::nullopt;
  char* text = nullptr;
  pg_guard([&] {
    Oid type = get_fn_expr_argtype(fcinfo->flinfo, index);
    Oid output_function = InvalidOid;
    bool is_varlena = false;
    getTypeOutputInfo(type, &output_function, &is_varlena);
    text = OidOutputFunctionCall(output_function, PG_GETARG_DATUM(index));
  });
  return std::string(text);
}

std::optional<std::int64_t> arg_int64(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index)) return std::nullopt;
  return PG_GETARG_INT64(index);
}

std::optional<std::int32_t> arg_int32(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index)) return std::nullopt;
  return PG_GETARG_INT32(index);
}

RunInputsShape arg_jsonb_array_shape(FunctionCallInfo fcinfo, int index) {
  RunInputsShape shape;
  pg_guard([&] {
    ArrayIterator elements = array_create_iterator(PG_GETARG_ARRAYTYPE_P(index), 0, nullptr);
    Datum value = 0;
    bool is_null = false;
    while (array_iterate(elements, &value, &is_null)) {
      ++shape.elements;
      if (!is_null && shape.first_non_object == 0 && !JB_ROOT_IS_OBJECT(DatumGetJsonbP(value)))
        shape.first_non_object = shape.elements;
    }
    array_free_iterator(elements);
  });
  return shape;
}

RunInputsShape arg_jsonb_shape(FunctionCallInfo fcinfo, int index) {
  RunInputsShape shape;
  shape.elements = 1;
  if (PG_ARGISNULL(index)) return shape;
  bool is_object = false;
  pg_guard([&] { is_object = JB_ROOT_IS_OBJECT(PG_GETARG_JSONB_P(index)); });
  if (!is_object) shape.first_non_object = 1;
  return shape;
}

Datum jsonb_result(const std::string& json) {
  Datum result = 0;
  const char* raw = json.c_str();
  pg_guard([&] { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(raw)); });
  return result;
}

Datum int64_result(std::int64_t value) { return Int64GetDatum(value); }

Datum int64_array_result(const std::vector<std::int64_t>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) literal += (i ? "," : "") + std::to_string(values[i]);
  literal += "}";
  Datum result = 0;
  const char* raw = literal.c_str();
  pg_guard([&] {
    Oid input_function = InvalidOid, io_param = InvalidOid;
    getTypeInputInfo(INT8ARRAYOID, &input_function, &io_param);
    result = OidInputFunctionCall(input_function, const_cast<char*>(raw), io_param, -1);
  });
  return result;
}

}  // namespace adagio::pg
