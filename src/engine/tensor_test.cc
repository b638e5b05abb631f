#include "engine/tensor.h"

#include <gtest/gtest.h>

namespace ecomap::engine {
namespace {

TEST(DataTypeTest, NamesRoundTrip) {
  for (DataType t : {DataType::kBool, DataType::kUint8, DataType::kInt64, DataType::kFp16,
                     DataType::kFp32, DataType::kFp64, DataType::kBytes}) {
    StatusOr<DataType> back = ParseDataType(DataTypeName(t));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(DataTypeSize(DataType::kFp32), 4u);
  EXPECT_EQ(DataTypeSize(DataType::kBytes), 0u);
  StatusOr<DataType> bad = ParseDataType("fp32");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'fp32'"), std::string::npos);
}

TEST(HostTensorTest, ValidatesFixedSize) {
  HostTensor t = HostTensor::Zeros("x", DataType::kFp32, {1, 3, 2});
  EXPECT_EQ(t.data.size(), 24u);
  EXPECT_TRUE(t.Validate().ok());
  t.data.pop_back();
  Status s = t.Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("24"), std::string::npos);
  HostTensor neg{"n", DataType::kInt64, {2, -1}, ""};
  EXPECT_FALSE(neg.Validate().ok());
  HostTensor huge{"h", DataType::kInt8, {1 << 21, 1 << 21}, ""};
  EXPECT_FALSE(huge.Validate().ok());
}

TEST(HostTensorTest, ValuesAndSpan) {
  HostTensor t = HostTensor::FromValues<float>("v", DataType::kFp32, {2}, {1.5f, -2.0f});
  ASSERT_TRUE(t.Validate().ok());
  EXPECT_FLOAT_EQ(t.Span<float>()[1], -2.0f);
}

TEST(HostTensorTest, ValidatesBytes) {
  std::string data;
  for (std::string s : {"ab", ""}) {
    uint32_t n = s.size();
    data.append(reinterpret_cast<const char*>(&n), 4);
    data += s;
  }
  HostTensor t{"b", DataType::kBytes, {2}, data};
  EXPECT_TRUE(t.Validate().ok());
  t.shape = {3};
  EXPECT_FALSE(t.Validate().ok());
  t.shape = {2};
  t.data.pop_back();  // the last prefix is truncated
  EXPECT_FALSE(t.Validate().ok());
  HostTensor over{"o", DataType::kBytes, {1}, std::string("\x09\0\0\0ab", 6)};
  EXPECT_FALSE(over.Validate().ok());
}

}  // namespace
}  // namespace ecomap::engine
