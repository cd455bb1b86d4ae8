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

std::optional<double> arg_interval_seconds(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index)) return std::nullopt;
  const Interval* interval = PG_GETARG_INTERVAL_P(index);  // fixed length: nothing to detoast
  return static_cast<double>(interval->time) / USECS_PER_SEC +
         (static_cast<double>(interval->month) * DAYS_PER_MONTH + interval->day) * SECS_PER_DAY;
}

std::optional<std::int64_t> arg_timestamp_unix_us(FunctionCallInfo fcinfo, int index, const char* name) {
  if (PG_ARGISNULL(index)) return std::nullopt;
  const TimestampTz at = PG_GETARG_TIMESTAMPTZ(index);  // by value: nothing to detoast
  if (TIMESTAMP_NOT_FINITE(at))
    throw SqlError(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE, std::string(name) + " must be a finite time",
                   std::string("got ") + (TIMESTAMP_IS_NOBEGIN(at) ? "-infinity" : "infinity"));
  return unix_us(at);
}

std::int64_t unix_us(TimestampTz at) {
  return static_cast<std::int64_t>(at) +
         static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;
}

std::optional<std::vector<std::optional<std::string>>> arg_array_elements(FunctionCallInfo fcinfo, int index) {
  if (PG_ARGISNULL(index)) return std::nullopt;
  // Plain data only inside the guard: uuids printed by uuid_out() and texts pointing into the
  // (detoasted) array, all in the call's memory context.
  Oid element_type = InvalidOid;
  Datum* values = nullptr;
  bool* nulls = nullptr;
  char** uuids = nullptr;
  int count = 0;
  pg_guard([&] {
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(index);
    element_type = ARR_ELEMTYPE(array);
    if (element_type == UUIDOID) {
      deconstruct_array(array, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &values, &nulls, &count);
      uuids = static_cast<char**>(palloc0(sizeof(char*) * (count > 0 ? count : 1)));
      for (int i = 0; i < count; ++i)
        if (!nulls[i]) uuids[i] = DatumGetCString(DirectFunctionCall1(uuid_out, values[i]));
    } else if (element_type == TEXTOID) {
      deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
    }
  });
  if (element_type != UUIDOID && element_type != TEXTOID)
    throw SqlError(ERRCODE_DATATYPE_MISMATCH, "argument " + std::to_string(index + 1) + " must be uuid[] or text[]");
  std::vector<std::optional<std::string>> elements;
  elements.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) {
      elements.emplace_back(std::nullopt);
    } else if (element_type == UUIDOID) {
      elements.emplace_back(uuids[i]);
    } else {
      // Array elements are stored inline (never compressed or out of line), with a short or
      // a long header.
      const auto* element = reinterpret_cast<const varlena*>(DatumGetPointer(values[i]));
      elements.emplace_back(std::string(VARDATA_ANY(element), VARSIZE_ANY_EXHDR(element)));
    }
  }
  return elements;
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

Datum json_result(const std::string& json) {
  Datum result = 0;
  const char* raw = json.data();
  const int length = static_cast<int>(json.size());
  pg_guard([&] { result = PointerGetDatum(cstring_to_text_with_len(raw, length)); });
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

Datum text_array_result(const std::vector<std::string>& values) {
  std::vector<const char*> raw(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) raw[i] = values[i].c_str();
  Datum result = 0;
  pg_guard([&] {
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (raw.empty() ? 1 : raw.size())));
    for (std::size_t i = 0; i < raw.size(); ++i) elements[i] = CStringGetTextDatum(raw[i]);
    result = PointerGetDatum(construct_array(elements, static_cast<int>(raw.size()), TEXTOID, -1, false, TYPALIGN_INT));
  });
  return result;
}

}  // namespace adagio::pg
